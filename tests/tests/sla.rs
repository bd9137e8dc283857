//! Service levels end to end, with the local runner's clock moved forward: a
//! ticket nobody answers is warned about at 80% and escalated at breach, and
//! the customer is told; a VIP gets the shorter targets; a ticket waiting on
//! the customer does not breach; an agent who stays silent loses the ticket.
//!
//! The test desk's catch-all policy: first response 30 minutes, next response
//! 60, resolution 90 (calendar time); teams are open around the clock.

use helpdesk_tests::{Helpdesk, eventually, text_of};
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
    let ticket = eventually("the ticket in the support queue with its clocks", || async {
        let (code, body) = desk.api("GET", Some(token), "/api/tickets?status=queued", None).await?;
        let found = body["tickets"].as_array().and_then(|tickets| {
            tickets
                .iter()
                .find(|t| t["customer"] == customer && t["sla"]["clocks"].is_array())
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
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_vip_ticket_gets_the_shorter_targets() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551239002";
    let token = desk.token("lena", "support").await?;
    let (status, _) = desk
        .api(
            "PUT",
            Some(&token),
            &format!("/api/customers/{customer}/tier"),
            Some(json!({"tier": "vip"})),
        )
        .await?;
    assert_eq!(status, 202);
    // The profile is written by the tickets function; wait until the bot can see it.
    eventually("the VIP profile", || async {
        let store = desk.aws.store().await;
        let profile =
            helpdesk::ports::TicketReader::profile(&store, &helpdesk::domain::ids::CustomerId::parse(customer)?)
                .await?;
        Ok(profile.filter(|p| p.tier == helpdesk::domain::ticket::CustomerTier::Vip))
    })
    .await?;
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
    desk.stop().await;
    Ok(())
}
