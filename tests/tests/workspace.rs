//! A day in the agent workspace, through the whole local helpdesk: two agents
//! and a lead work a customer's tickets through the agent API alone, with the
//! customer on the WhatsApp simulator.

use helpdesk_tests::{Helpdesk, eventually, text_of};
use serde_json::{Value, json};

const CUSTOMER: &str = "15551240001";

/// The customer asks for an agent from the menu; answers the ticket id.
async fn asks_for_an_agent(desk: &Helpdesk, token: &str, seen: usize) -> anyhow::Result<String> {
    desk.customer_taps(CUSTOMER, "menu.agent", "Talk to an agent").await?;
    desk.inbox_of_at_least(CUSTOMER, seen + 1).await?;
    let ticket = desk.first_ticket_in(token, "queued").await?;
    Ok(ticket["id"].as_str().unwrap().to_owned())
}

/// The ticket once all `sent` messages the customer received for it are on its
/// timeline and read (no send report or status is still changing it). The
/// simulator's inbox has a message before the sender records it on the ticket,
/// so the count matters: without it the last message could still be on its way.
async fn settled(desk: &Helpdesk, token: &str, id: &str, sent: usize) -> anyhow::Result<Value> {
    desk.ticket_where(token, id, |t| {
        let outbound: Vec<&Value> = t["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["direction"] == "outbound")
            .collect();
        outbound.len() == sent && outbound.iter().all(|e| e["delivery"] == "read")
    })
    .await
}

fn kinds(ticket: &Value) -> Vec<String> {
    ticket["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn two_agents_and_a_lead_work_a_customers_tickets_through_the_api() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let ana = desk.token("ana", "support").await?;
    let bob = desk.token("bob", "support").await?;
    let lea = desk.token("lea", "support,leads").await?;
    // Lea's console follows the change feed from the start of the day.
    let (_, start) = desk.api("GET", Some(&lea), "/api/changes", None).await?;
    let feed_start = start["next"].as_str().unwrap().to_owned();

    // A first ticket, answered and resolved.
    desk.customer_says(CUSTOMER, "hello").await?;
    desk.inbox_of_at_least(CUSTOMER, 1).await?;
    let first = asks_for_an_agent(&desk, &ana, 1).await?;
    let reply = json!({"text": "Hello, how can I help?"});
    let (status, _) = desk
        .api("POST", Some(&ana), &format!("/api/tickets/{first}/reply"), Some(reply))
        .await?;
    assert_eq!(status, 202);
    desk.inbox_of_at_least(CUSTOMER, 3).await?;
    desk.api("POST", Some(&ana), &format!("/api/tickets/{first}/resolve"), None)
        .await?;
    desk.ticket_where(&ana, &first, |t| t["ticket"]["status"] == "resolved")
        .await?;
    let seen = desk.inbox_of_at_least(CUSTOMER, 4).await?.len(); // the survey

    // The customer comes back about an order, and asks for an agent again.
    desk.customer_says(CUSTOMER, "hi again").await?;
    desk.inbox_of_at_least(CUSTOMER, seen + 1).await?;
    desk.customer_taps(CUSTOMER, "menu.order_status", "Order status")
        .await?;
    desk.inbox_of_at_least(CUSTOMER, seen + 2).await?;
    desk.customer_says(CUSTOMER, "#AB-1234").await?;
    desk.inbox_of_at_least(CUSTOMER, seen + 3).await?;
    let second = asks_for_an_agent(&desk, &ana, seen + 3).await?;
    assert_ne!(second, first);

    // Ana claims it on the version she read, once the handoff message's
    // statuses (which count its price on the ticket) are in.
    let sent = desk.inbox(CUSTOMER).await?.len() - seen;
    let shown = settled(&desk, &ana, &second, sent).await?;
    let version = shown["version"].as_u64().unwrap();
    let claim = desk
        .http
        .post(format!("{}/api/tickets/{second}/claim", desk.runner.http_url))
        .bearer_auth(&ana)
        .header("If-Match", format!("\"{version}\""))
        .send()
        .await?;
    assert_eq!(claim.status(), 202);
    desk.ticket_where(&ana, &second, |t| t["ticket"]["assignee"] == "ana")
        .await?;

    // Bob replies on the version he read before the claim: refused, with what changed.
    let stale = desk
        .http
        .post(format!("{}/api/tickets/{second}/reply", desk.runner.http_url))
        .bearer_auth(&bob)
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({"text": "I can help!"}))
        .send()
        .await?;
    assert_eq!(stale.status(), 412);
    let refused: Value = stale.json().await?;
    assert_eq!(refused["code"], "ticket_changed");
    assert_eq!(refused["current"]["ticket"]["assignee"], "ana");

    // A note mentioning the lead reaches the team's channels, never the customer.
    let note = json!({"text": "@lea the customer may want a refund"});
    let (status, _) = desk
        .api("POST", Some(&ana), &format!("/api/tickets/{second}/notes"), Some(note))
        .await?;
    assert_eq!(status, 202);
    let mention = eventually("the mention notification", || async {
        let posts = desk.notifications().await?;
        Ok(posts.into_iter().find(|p| {
            let body = p["body"].to_string();
            body.contains(&second) && body.contains("@lea")
        }))
    })
    .await?;
    assert_eq!(mention["team"], "support");

    // Ana answers; the customer gets it.
    let before = desk.inbox(CUSTOMER).await?.len();
    let (status, _) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{second}/reply"),
            Some(json!({"text": "Your parcel AB-1234 left our warehouse today."})),
        )
        .await?;
    assert_eq!(status, 202);
    let inbox = desk.inbox_of_at_least(CUSTOMER, before + 1).await?;
    assert!(text_of(inbox.last().unwrap()).contains("AB-1234"));
    assert!(
        inbox.iter().all(|m| !text_of(m).contains("refund")),
        "a note reached the customer"
    );

    // Search by the customer's business-scoped id and by the order number.
    let user_id = desk.user_id_of(CUSTOMER).await?;
    let (_, by_id) = desk
        .api("GET", Some(&bob), &format!("/api/search?q={user_id}"), None)
        .await?;
    let ids: Vec<&str> = by_id["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "{by_id}");
    let (_, by_order) = desk.api("GET", Some(&bob), "/api/search?q=AB-1234", None).await?;
    assert_eq!(by_order["by"], "order");
    assert_eq!(by_order["tickets"][0]["id"], second.as_str());

    // The ticket links the customer's history, which lists the first ticket.
    let (_, shown) = desk
        .api("GET", Some(&lea), &format!("/api/tickets/{second}"), None)
        .await?;
    let (_, history) = desk
        .api("GET", Some(&lea), shown["history"].as_str().unwrap(), None)
        .await?;
    assert_eq!(history["tickets"][1]["id"], first.as_str());

    // The lead gives it to Bob; he resolves it; Ana reopens it.
    let (status, _) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{second}/assign"),
            Some(json!({"agent": "bob"})),
        )
        .await?;
    assert_eq!(status, 403, "assigning others is for leads");
    let (status, _) = desk
        .api(
            "POST",
            Some(&lea),
            &format!("/api/tickets/{second}/assign"),
            Some(json!({"agent": "bob"})),
        )
        .await?;
    assert_eq!(status, 202);
    desk.ticket_where(&bob, &second, |t| t["ticket"]["assignee"] == "bob")
        .await?;
    let before_survey = desk.inbox(CUSTOMER).await?.len();
    desk.api("POST", Some(&bob), &format!("/api/tickets/{second}/resolve"), None)
        .await?;
    desk.ticket_where(&bob, &second, |t| t["ticket"]["status"] == "resolved")
        .await?;
    // Ana reopens on the version she reads once the survey the resolution sent
    // is recorded and read (its send report and statuses change the ticket:
    // reopening before them raced them and was refused as stale).
    let sent = desk.inbox_of_at_least(CUSTOMER, before_survey + 1).await?.len() - seen;
    settled(&desk, &ana, &second, sent).await?;
    let (status, _) = desk
        .api("POST", Some(&ana), &format!("/api/tickets/{second}/reopen"), None)
        .await?;
    assert_eq!(status, 202);
    let reopened = desk
        .ticket_where(&ana, &second, |t| {
            t["ticket"]["status"] == "assigned" && t["ticket"]["assignee"] == "ana"
        })
        .await?;
    let (_, first_again) = desk
        .api("POST", Some(&ana), &format!("/api/tickets/{first}/reopen"), None)
        .await?;
    assert_eq!(first_again["code"], "newer_ticket");

    // Every step is on the timeline, the note marked internal.
    let steps = kinds(&reopened);
    for step in ["escalated", "assigned", "note", "resolved", "reopened"] {
        assert!(steps.iter().any(|k| k == step), "{step} missing from {steps:?}");
    }
    let note = reopened["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "note")
        .unwrap();
    assert_eq!(note["direction"], "internal");
    assert_eq!(note["data"]["mentions"], json!(["lea"]));

    // After 24 hours of silence only a template reaches the customer.
    desk.advance_clock(25 * 60).await?;
    let (status, closed) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{second}/reply"),
            Some(json!({"text": "Any news?"})),
        )
        .await?;
    assert_eq!((status, closed["code"].as_str()), (409, Some("window_closed")));

    // The change feed delivered every step of the ticket once, in order.
    let mut next = feed_start;
    let mut changes = Vec::new();
    loop {
        let (status, page) = desk
            .api("GET", Some(&lea), &format!("/api/changes?since={next}&wait=0"), None)
            .await?;
        assert_eq!(status, 200, "{page}");
        next = page["next"].as_str().unwrap().to_owned();
        let got = page["changes"].as_array().unwrap().clone();
        if got.is_empty() {
            break;
        }
        changes.extend(got.into_iter().filter(|c| c["ticket_id"] == second.as_str()));
    }
    let versions: Vec<u64> = changes.iter().map(|c| c["version"].as_u64().unwrap()).collect();
    assert_eq!(
        versions,
        (1..=versions.len() as u64).collect::<Vec<_>>(),
        "each version once, in order"
    );
    let states: Vec<(String, String)> = changes
        .iter()
        .map(|c| {
            (
                c["ticket"]["status"].as_str().unwrap().to_owned(),
                c["ticket"]["assignee"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for state in [
        ("queued", ""),
        ("assigned", "ana"),
        ("assigned", "bob"),
        ("resolved", "bob"),
    ] {
        let state = (state.0.to_owned(), state.1.to_owned());
        assert!(states.contains(&state), "{state:?} not in the feed {states:?}");
    }
    assert_eq!(
        states.last().unwrap(),
        &("assigned".to_owned(), "ana".to_owned()),
        "reopened last"
    );

    // The audit trail shows every step on the ticket, with who and how it ended.
    let root = desk.token("root", "admins").await?;
    let (status, trail) = desk
        .api("GET", Some(&root), &format!("/api/audit?ticket={second}"), None)
        .await?;
    assert_eq!(status, 200);
    let steps: Vec<(String, String, u64)> = trail["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["agent"].as_str().unwrap().to_owned(),
                r["action"].as_str().unwrap().to_owned(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    for step in [
        ("ana", "claim", 202),
        ("bob", "reply", 412),
        ("ana", "note", 202),
        ("ana", "reply", 202),
        ("ana", "assign", 403),
        ("lea", "assign", 202),
        ("bob", "resolve", 202),
        ("ana", "reopen", 202),
        ("ana", "reply", 409),
    ] {
        let step = (step.0.to_owned(), step.1.to_owned(), step.2);
        assert!(steps.contains(&step), "{step:?} is not in the trail {steps:?}");
    }
    assert!(!trail.to_string().contains("refund"), "no message text in the trail");

    // A privacy request: the admin exports everything, then erases the customer.
    let (status, export) = desk
        .api("GET", Some(&root), &format!("/api/customers/{CUSTOMER}/export"), None)
        .await?;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["tickets"].as_array().unwrap().len(), 2);
    assert!(export.to_string().contains("AB-1234"));
    let (_, before) = desk.api("GET", Some(&lea), "/api/reports/summary", None).await?;
    let (status, _) = desk
        .api("DELETE", Some(&root), &format!("/api/customers/{CUSTOMER}"), None)
        .await?;
    assert_eq!(status, 202);
    eventually("the customer erased", || async {
        let (status, _) = desk
            .api("GET", Some(&root), &format!("/api/customers/{CUSTOMER}/export"), None)
            .await?;
        Ok((status == 404).then_some(()))
    })
    .await?;
    let (_, found) = desk
        .api("GET", Some(&root), &format!("/api/search?q={user_id}"), None)
        .await?;
    assert_eq!(found["tickets"], json!([]), "{found}");
    for id in [&first, &second] {
        let (_, t) = desk
            .api("GET", Some(&root), &format!("/api/tickets/{id}"), None)
            .await?;
        let held = t.to_string();
        for trace in [CUSTOMER, user_id.as_str(), "AB-1234", "parcel", "hi again"] {
            assert!(!held.contains(trace), "{trace} is still on {id}: {held}");
        }
    }
    let (_, after) = desk.api("GET", Some(&lea), "/api/reports/summary", None).await?;
    assert!(before["overall"]["tickets"].as_u64().unwrap() >= 2, "{before}");
    assert_eq!(
        after["overall"]["tickets"], before["overall"]["tickets"],
        "the counts stay"
    );

    desk.stop().await;
    Ok(())
}

/// A team that assigns round-robin: an available agent gets a queued ticket
/// on the next minute's run, and an away agent none.
#[tokio::test]
async fn an_available_agent_of_a_round_robin_team_is_given_the_queued_ticket() -> anyhow::Result<()> {
    let desk = Helpdesk::start_with(|desk| {
        let teams = desk["teams"].as_array_mut().expect("teams");
        let support = teams
            .iter_mut()
            .find(|t| t["id"].as_str() == Some("support"))
            .expect("the support team");
        let mut assignment = toml::Table::new();
        assignment.insert("round_robin".into(), true.into());
        assignment.insert("capacity".into(), 2.into());
        support
            .as_table_mut()
            .expect("a table")
            .insert("assignment".into(), assignment.into());
        Ok(())
    })
    .await?;
    let ana = desk.token("ana", "support").await?;
    let bob = desk.token("bob", "support").await?;
    let lea = desk.token("lea", "support,leads").await?;
    for (token, status) in [(&ana, "available"), (&bob, "away")] {
        let (code, _) = desk
            .api(
                "PUT",
                Some(token),
                "/api/me/availability",
                Some(json!({"status": status})),
            )
            .await?;
        assert_eq!(code, 200);
    }
    desk.customer_says("15551240002", "hello").await?;
    desk.inbox_of_at_least("15551240002", 1).await?;
    desk.customer_taps("15551240002", "menu.agent", "Talk to an agent")
        .await?;
    let queued = desk.first_ticket_in(&ana, "queued").await?;
    let id = queued["id"].as_str().unwrap().to_owned();

    desk.advance_clock(1).await?;

    // The ticket is read after its timeline: wait for both to show it.
    let ticket = desk
        .ticket_where(&ana, &id, |t| {
            t["ticket"]["assignee"] == "ana"
                && t["timeline"]
                    .as_array()
                    .is_some_and(|entries| entries.iter().any(|e| e["kind"] == "assigned"))
        })
        .await?;
    assert_eq!(ticket["ticket"]["status"], "assigned");
    let assigned = ticket["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "assigned")
        .expect("the assignment on the timeline");
    assert!(
        assigned["summary"].as_str().unwrap().contains("round-robin"),
        "{assigned}"
    );
    let (_, team) = desk.api("GET", Some(&lea), "/api/teams/support/agents", None).await?;
    assert_eq!(team["round_robin"], true);
    assert_eq!(team["available"][0]["agent"], "ana");
    assert_eq!(team["available"][0]["open_tickets"], 1);
    desk.stop().await;
    Ok(())
}
