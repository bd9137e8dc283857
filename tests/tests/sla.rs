//! Service levels end to end, with the local runner's clock moved forward: a
//! ticket nobody answers is warned about at 80% and escalated at breach, and
//! the customer is told; a VIP gets the shorter targets; a ticket waiting on
//! the customer does not breach; an agent who stays silent loses the ticket.
//!
//! The test desk's catch-all policy: first response 30 minutes, next response
//! 60, resolution 90 (calendar time); teams are open around the clock.

use helpdesk_tests::{Helpdesk, choice_ids, eventually, text_of};
use serde_json::{Value, json};

async fn notifications_about(desk: &Helpdesk, ticket: &str, kind: &str) -> anyhow::Result<Vec<Value>> {
    let all: Vec<Value> = desk
        .http
        .get(format!("{}/_local/notifications", desk.runner.http_url))
        .send()
        .await?
        .json()
        .await?;
    Ok(all
        .into_iter()
        .filter(|n| {
            let body = n["body"].to_string();
            body.contains(ticket) && body.contains(kind)
        })
        .collect())
}

fn timeline_kinds(body: &Value) -> Vec<String> {
    body["timeline"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e["kind"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn clock<'a>(body: &'a Value, metric: &str) -> Option<&'a Value> {
    body["ticket"]["sla"]["clocks"]
        .as_array()?
        .iter()
        .find(|c| c["metric"] == metric)
}

/// A customer asks for an agent; answers the ticket id once it waits in the support queue.
async fn handed_to_support(desk: &Helpdesk, customer: &str, token: &str) -> anyhow::Result<String> {
    desk.customer_says(customer, "hello").await?;
    desk.inbox_of_at_least(customer, 1).await?;
    desk.customer_taps(customer, "menu.agent", "Talk to an agent").await?;
    desk.inbox_of_at_least(customer, 2).await?;
    // Keyed by the business-scoped id, or by the phone a VIP tier was set on before they wrote.
    let user_id = desk.user_id_of(customer).await?;
    let ticket = eventually("the ticket in the support queue with its clocks", || async {
        let (code, body) = desk.api("GET", Some(token), "/api/tickets?status=queued", None).await?;
        let found = body["tickets"].as_array().and_then(|tickets| {
            tickets
                .iter()
                .find(|t| (t["customer"] == customer || t["customer"] == user_id) && t["sla"]["clocks"].is_array())
                .cloned()
        });
        Ok(if code == 200 { found } else { None })
    })
    .await?;
    Ok(ticket["id"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn an_unanswered_ticket_is_warned_about_at_80_percent_then_escalated_at_breach_and_the_customer_is_told()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551239001";
    let token = desk.token("lena", "support").await?;
    let id = handed_to_support(&desk, customer, &token).await?;
    let handoff = text_of(&desk.inbox(customer).await?[1]);
    assert!(
        handoff.contains("30 minutes"),
        "the promise comes from the policy: {handoff}"
    );

    // 23 of 30 minutes: nothing yet.
    desk.advance_clock(23).await?;
    assert!(notifications_about(&desk, &id, "SLA").await?.is_empty());

    // 24 minutes is 80%: the team is warned, once.
    desk.advance_clock(1).await?;
    eventually("the SLA warning in the team channel", || async {
        let posts = notifications_about(&desk, &id, "SLA deadline near").await?;
        Ok((!posts.is_empty()).then_some(posts))
    })
    .await?;
    let body = desk
        .ticket_where(&token, &id, |b| timeline_kinds(b).contains(&"sla_warning".to_owned()))
        .await?;
    assert!(clock(&body, "first_response").unwrap()["warned_at_ms"].is_i64());

    // 30 minutes: breached, escalated to the team lead, and the customer hears why.
    desk.advance_clock(6).await?;
    eventually("the breach in the team channel", || async {
        let posts = notifications_about(&desk, &id, "SLA deadline missed").await?;
        Ok((!posts.is_empty()).then_some(posts))
    })
    .await?;
    let body = desk
        .ticket_where(&token, &id, |b| timeline_kinds(b).contains(&"sla_breached".to_owned()))
        .await?;
    let escalations = body["ticket"]["escalations"].as_array().unwrap();
    let last = escalations.last().unwrap();
    assert_eq!(last["trigger"], "sla_breach");
    assert!(last["reason"].as_str().unwrap().contains("team lead"), "{last}");
    assert_eq!(clock(&body, "first_response").unwrap()["level"], 1);
    let inbox = desk.inbox_of_at_least(customer, 3).await?;
    let notice = text_of(&inbox[2]);
    assert!(
        notice.contains("senior"),
        "the customer is told transparently: {notice}"
    );

    // A sweep that repeats (the clock barely moves) changes nothing more.
    desk.advance_clock(1).await?;
    let kinds = timeline_kinds(
        &desk
            .api("GET", Some(&token), &format!("/api/tickets/{id}"), None)
            .await?
            .1,
    );
    assert_eq!(kinds.iter().filter(|k| *k == "sla_breached").count(), 1);
    assert_eq!(kinds.iter().filter(|k| *k == "sla_warning").count(), 1);
    assert_eq!(desk.inbox(customer).await?.len(), 3);

    // Still unanswered an hour after the breach: the next level is alerted.
    desk.advance_clock(60).await?;
    let body = desk
        .ticket_where(&token, &id, |b| timeline_kinds(b).contains(&"sla_escalated".to_owned()))
        .await?;
    assert_eq!(clock(&body, "first_response").unwrap()["level"], 2);
    eventually("the second level's alert", || async {
        let posts = notifications_about(&desk, &id, "support manager").await?;
        Ok((!posts.is_empty()).then_some(posts))
    })
    .await?;
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_vip_ticket_gets_the_shorter_targets() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551239002";
    let token = desk.token("lena", "support,leads").await?;
    desk.make_vip(&token, customer).await?;
    desk.customer_says(customer, "hello").await?;
    let inbox = desk.inbox_of_at_least(customer, 1).await?;
    assert!(text_of(&inbox[0]).contains("10 minutes"), "{}", text_of(&inbox[0]));
    let ticket = desk.first_ticket_in(&token, "queued").await?;
    assert_eq!(ticket["sla"]["policy"], "vip");
    assert_eq!(ticket["customer_tier"], "vip");
    let clocks = ticket["sla"]["clocks"].as_array().unwrap();
    let first = clocks.iter().find(|c| c["metric"] == "first_response").unwrap();
    let started = first["started_at_ms"].as_i64().unwrap();
    assert_eq!(
        first["due_at_ms"].as_i64().unwrap() - started / 60_000 * 60_000,
        10 * 60_000
    );
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_ticket_waiting_on_the_customer_does_not_breach_and_their_reply_restarts_the_clocks() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551239003";
    let token = desk.token("lena", "support").await?;
    let id = handed_to_support(&desk, customer, &token).await?;

    desk.advance_clock(5).await?;
    let (status, _) = desk
        .api(
            "POST",
            Some(&token),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"text": "Could you send me your order number?"})),
        )
        .await?;
    assert_eq!(status, 202);
    let body = desk
        .ticket_where(&token, &id, |b| {
            clock(b, "first_response").is_none()
                && clock(b, "resolution").is_some_and(|c| c["running_since_ms"].is_null())
        })
        .await?;
    assert_eq!(clock(&body, "resolution").unwrap()["elapsed_minutes"], 5);

    // Far past the 90-minute resolution target: paused, so nothing fires.
    desk.advance_clock(120).await?;
    desk.advance_clock(1).await?;
    let body = desk
        .api("GET", Some(&token), &format!("/api/tickets/{id}"), None)
        .await?
        .1;
    let kinds = timeline_kinds(&body);
    assert!(!kinds.iter().any(|k| k.starts_with("sla_")), "{kinds:?}");
    assert!(notifications_about(&desk, &id, "SLA").await?.is_empty());

    // The customer answers: resolution resumes with 85 minutes left, and a next response is owed.
    desk.customer_says(customer, "It is AB-1234").await?;
    let body = desk
        .ticket_where(&token, &id, |b| clock(b, "next_response").is_some())
        .await?;
    let resolution = clock(&body, "resolution").unwrap();
    let resumed = resolution["running_since_ms"].as_i64().unwrap();
    assert_eq!(
        resolution["due_at_ms"].as_i64().unwrap() - resumed / 60_000 * 60_000,
        85 * 60_000
    );
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_agent_silent_after_the_customer_wrote_loses_the_ticket_to_the_queue_and_the_team_is_told()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551239004";
    let token = desk.token("lena", "support").await?;
    let id = handed_to_support(&desk, customer, &token).await?;
    let (status, _) = desk
        .api(
            "POST",
            Some(&token),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"text": "Hello, I'm Lena. What happened?"})),
        )
        .await?;
    assert_eq!(status, 202);
    desk.ticket_where(&token, &id, |b| b["ticket"]["status"] == "assigned")
        .await?;
    desk.customer_says(customer, "My parcel never arrived").await?;
    desk.ticket_where(&token, &id, |b| b["ticket"]["sla"]["reassign_at_ms"].is_i64())
        .await?;

    // The shipped desk reassigns after 30 silent minutes.
    desk.advance_clock(31).await?;
    let body = desk
        .ticket_where(&token, &id, |b| b["ticket"]["status"] == "queued")
        .await?;
    assert!(body["ticket"]["assignee"].is_null());
    assert!(timeline_kinds(&body).contains(&"reassigned".to_owned()));
    eventually("the team told of the reassignment", || async {
        let posts = notifications_about(&desk, &id, "back in the").await?;
        Ok((!posts.is_empty()).then_some(posts))
    })
    .await?;
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_billing_question_nobody_answers_goes_to_the_billing_specialists_and_the_customer_is_told()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551239009";
    let token = desk.token("bruno", "billing,billing-experts").await?;
    desk.customer_says(customer, "I was charged twice for my order").await?;
    let inbox = desk.inbox_of_at_least(customer, 1).await?;
    assert!(
        text_of(&inbox[0]).contains("1 hour"),
        "the billing policy's promise: {}",
        text_of(&inbox[0])
    );
    let ticket = desk.first_ticket_in(&token, "queued").await?;
    let id = ticket["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        (ticket["team"].as_str(), ticket["sla"]["policy"].as_str()),
        (Some("billing"), Some("billing"))
    );

    desk.advance_clock(61).await?;
    let body = desk
        .ticket_where(&token, &id, |b| b["ticket"]["team"] == "billing-experts")
        .await?;
    assert_eq!(body["ticket"]["tier"], 3);
    assert_eq!(body["ticket"]["status"], "queued");
    assert_eq!(body["ticket"]["sla"]["policy"], "specialists");
    let restarted = clock(&body, "first_response").unwrap();
    assert!(
        restarted["breached_at_ms"].is_null(),
        "the specialists' own target runs: {restarted}"
    );
    let notice = text_of(&desk.inbox_of_at_least(customer, 2).await?[1]);
    assert!(
        notice.contains("billing specialists") && notice.contains("2 hours"),
        "{notice}"
    );
    desk.stop().await;
    Ok(())
}

async fn agent_says(desk: &Helpdesk, token: &str, id: &str, text: &str) -> anyhow::Result<()> {
    let (status, body) = desk
        .api(
            "POST",
            Some(token),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"text": text})),
        )
        .await?;
    anyhow::ensure!(status == 202, "reply refused: {status} {body}");
    desk.ticket_where(token, id, |b| b["ticket"]["status"] == "assigned")
        .await?;
    Ok(())
}

async fn resolve(desk: &Helpdesk, token: &str, id: &str) -> anyhow::Result<()> {
    let (status, body) = desk
        .api("POST", Some(token), &format!("/api/tickets/{id}/resolve"), None)
        .await?;
    anyhow::ensure!(status == 202 || status == 200, "resolve refused: {status} {body}");
    desk.ticket_where(token, id, |b| b["ticket"]["status"] == "resolved")
        .await?;
    Ok(())
}

/// Waits for the satisfaction survey and taps the row of `score`.
async fn rate(desk: &Helpdesk, customer: &str, id: &str, score: u8) -> anyhow::Result<()> {
    let survey = eventually("the satisfaction survey", || async {
        let inbox = desk.inbox(customer).await?;
        Ok(inbox
            .into_iter()
            .find(|m| choice_ids(m).iter().any(|c| c.starts_with("csat:"))))
    })
    .await?;
    let row = format!("csat:{id}:{score}");
    assert!(choice_ids(&survey).contains(&row), "{survey}");
    let reply = json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": row, "title": score.to_string()}}});
    desk.customer_sends(customer, reply).await?;
    Ok(())
}

#[tokio::test]
async fn after_resolution_the_customer_rates_the_help_once_and_may_add_a_comment() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551239005";
    let token = desk.token("lena", "support").await?;
    let id = handed_to_support(&desk, customer, &token).await?;
    agent_says(&desk, &token, &id, "Your refund is on its way.").await?;
    resolve(&desk, &token, &id).await?;

    rate(&desk, customer, &id, 4).await?;
    let body = desk
        .ticket_where(&token, &id, |b| b["ticket"]["csat"]["score"] == 4)
        .await?;
    assert_eq!(
        body["ticket"]["status"], "resolved",
        "a rating does not reopen the ticket"
    );
    let thanks = eventually("the request for a comment", || async {
        let inbox = desk.inbox(customer).await?;
        Ok(inbox
            .into_iter()
            .find(|m| choice_ids(m).contains(&"csat.no_comment".to_owned())))
    })
    .await?;
    assert!(!text_of(&thanks).is_empty());

    desk.customer_says(customer, "Quick and kind, thank you").await?;
    desk.ticket_where(&token, &id, |b| {
        b["ticket"]["csat"]["comment"] == "Quick and kind, thank you"
    })
    .await?;

    // One survey per resolution: a second tap changes nothing.
    let reply = json!({"type": "interactive", "interactive": {"type": "list_reply", "list_reply": {"id": format!("csat:{id}:1"), "title": "1"}}});
    desk.customer_sends(customer, reply).await?;
    desk.ticket_where(&token, &id, |b| {
        timeline_kinds(b).iter().filter(|k| *k == "csat").count() == 1
            && b["timeline"]
                .as_array()
                .is_some_and(|t| t.iter().filter(|e| e["direction"] == "inbound").count() >= 5)
    })
    .await?;
    let body = desk
        .api("GET", Some(&token), &format!("/api/tickets/{id}"), None)
        .await?
        .1;
    assert_eq!(body["ticket"]["csat"]["score"], 4);
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_reports_add_up_on_a_known_set_of_tickets() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let token = desk.token("lena", "support,leads").await?;
    let (quick, late, browsing) = ("15551239006", "15551239007", "15551239008");
    let answered = handed_to_support(&desk, quick, &token).await?;
    let breached = handed_to_support(&desk, late, &token).await?;
    desk.customer_says(browsing, "hello").await?;
    desk.inbox_of_at_least(browsing, 1).await?;

    // One first response in 5 minutes, the other after the 30-minute target.
    desk.advance_clock(5).await?;
    agent_says(&desk, &token, &answered, "Hello! Let me check.").await?;
    desk.advance_clock(26).await?;
    desk.ticket_where(&token, &breached, |b| {
        timeline_kinds(b).contains(&"sla_breached".to_owned())
    })
    .await?;
    agent_says(&desk, &token, &breached, "Sorry for the wait!").await?;
    resolve(&desk, &token, &answered).await?;
    resolve(&desk, &token, &breached).await?;
    rate(&desk, quick, &answered, 5).await?;
    rate(&desk, late, &breached, 2).await?;
    desk.ticket_where(&token, &breached, |b| b["ticket"]["csat"]["score"] == 2)
        .await?;
    desk.ticket_where(&token, &answered, |b| b["ticket"]["csat"]["score"] == 5)
        .await?;

    let now = jiff::Timestamp::from_millisecond(desk.now_ms().await?)?;
    let day = |hours: i64| {
        (now + jiff::SignedDuration::from_hours(hours))
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .to_string()
    };
    let range = format!("from={}&to={}", day(-24), day(24));
    let (status, sla) = desk
        .api("GET", Some(&token), &format!("/api/reports/sla?{range}"), None)
        .await?;
    assert_eq!(status, 200, "{sla}");
    let overall = &sla["overall"];
    assert_eq!(overall["first_response_count"], 2, "{overall}");
    assert_eq!(overall["first_response_within"], 1);
    assert_eq!(overall["first_response_missed"], 1, "{overall}");
    assert_eq!(overall["first_response_compliance_percent"], 50.0);
    assert_eq!(overall["resolution_count"], 2);
    assert_eq!(overall["resolution_within"], 2);
    assert_eq!(overall["warnings"], 1);
    assert_eq!(overall["breaches"], 1);

    let (_, escalations) = desk
        .api("GET", Some(&token), &format!("/api/reports/escalations?{range}"), None)
        .await?;
    let overall = &escalations["overall"];
    assert_eq!(
        (overall["tickets"].as_u64(), overall["to_human"].as_u64()),
        (Some(3), Some(2)),
        "{overall}"
    );
    assert_eq!(overall["bot_to_human_percent"], 66.7);

    let (_, csat) = desk
        .api("GET", Some(&token), &format!("/api/reports/csat?{range}"), None)
        .await?;
    assert_eq!(csat["overall"]["count"], 2, "{csat}");
    assert_eq!(csat["overall"]["average"], 3.5);
    assert_eq!(
        (csat["overall"]["score_2"].as_u64(), csat["overall"]["score_5"].as_u64()),
        (Some(1), Some(1))
    );

    let (status, csv) = desk
        .api(
            "GET",
            Some(&token),
            &format!("/api/reports/sla?{range}&format=csv"),
            None,
        )
        .await?;
    let csv = csv.as_str().unwrap_or_default().to_owned();
    assert_eq!(status, 200);
    assert!(csv.starts_with("from,to,group,name,"), "{csv}");
    // 5 and 31 minutes on the moved clock, plus the real seconds the steps
    // took (on a loaded machine they can cross a minute): the CSV carries the
    // JSON's average.
    let average = sla["overall"]["first_response_average_minutes"]
        .as_f64()
        .unwrap_or_default();
    assert!((18.0..19.0).contains(&average), "{sla}");
    let average = if average.fract() == 0.0 {
        format!("{average:.0}")
    } else {
        average.to_string()
    };
    let line = format!(",overall,all,2,{average},1,1,50,");
    assert!(csv.lines().any(|l| l.contains(&line)), "{line} in {csv}");
    desk.stop().await;
    Ok(())
}
