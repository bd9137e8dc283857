//! The first conversation, end to end: a customer through the WhatsApp
//! simulator, an agent through the agent API, the functions through the local
//! runner over moto.

use aws_sdk_dynamodb::types::AttributeValue;
use helpdesk::adapters::keys;
use helpdesk::domain::i18n::{Arg, Catalog, Lang};
use helpdesk::domain::signature::sign;
use helpdesk_tests::{Helpdesk, choice_ids, eventually, text_of};

const MENU: [&str; 4] = ["menu.order_status", "menu.faq", "menu.agent", "menu.language"];

fn english(key: &str, args: &[(&str, &str)]) -> String {
    let args: Vec<(&str, Arg)> = args.iter().map(|(k, v)| (*k, Arg::from(*v))).collect();
    Catalog::builtin().text(Lang::En, key, &args)
}

/// The greeting the simulator's customer gets: it names them by their
/// WhatsApp profile name, "Customer <last four digits>" in the simulator.
fn greeting(customer: &str) -> String {
    english(
        "greeting",
        &[("name", &format!("Customer {}", &customer[customer.len() - 4..]))],
    )
}
use serde_json::{Value, json};

#[tokio::test]
async fn a_new_customer_who_says_hi_gets_the_menu_as_reply_buttons_and_a_ticket_opens() -> anyhow::Result<()> {
    // Arrange
    let desk = Helpdesk::start().await?;
    // Act
    desk.customer_says("15551230001", "hi").await?;
    // Assert
    let inbox = desk.inbox_of_at_least("15551230001", 1).await?;
    assert_eq!(inbox[0]["type"], "interactive");
    assert_eq!(text_of(&inbox[0]), greeting("15551230001"));
    assert_eq!(choice_ids(&inbox[0]), MENU);
    assert_eq!(inbox[0]["phone_number_id"], helpdesk_tests::PHONE_NUMBER_ID);

    let token = desk.token("ana", "support").await?;
    let ticket = desk.first_ticket_in(&token, "bot").await?;
    assert_eq!(ticket["tier"], 1);
    assert_eq!(
        ticket["customer"],
        desk.user_id_of("15551230001").await?,
        "keyed by the business-scoped id"
    );
    let id = ticket["id"].as_str().unwrap().to_owned();
    let detail = desk
        .ticket_where(&token, &id, |t| {
            t["timeline"].as_array().is_some_and(|tl| tl.len() >= 2)
        })
        .await?;
    let timeline = detail["timeline"].as_array().unwrap();
    assert_eq!(timeline[0]["direction"], "inbound");
    assert_eq!(timeline[0]["summary"], "hi");
    assert_eq!(timeline[1]["direction"], "outbound");
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn talk_to_an_agent_queues_the_ticket_for_humans_an_agent_replies_and_after_resolve_the_bot_greets_again()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551230002";
    desk.customer_says(customer, "hello").await?;
    desk.inbox_of_at_least(customer, 1).await?;

    // The customer asks for a human with the menu button (routed by its id).
    desk.customer_taps(customer, "menu.agent", "Talk to an agent").await?;
    let inbox = desk.inbox_of_at_least(customer, 2).await?;
    assert_eq!(
        text_of(&inbox[1]),
        english("handoff", &[("team", "support"), ("wait", "30 minutes")])
    );

    let token = desk.token("ana", "support").await?;
    let queued = desk.first_ticket_in(&token, "queued").await?;
    assert_eq!(queued["tier"], 2);
    assert_eq!(queued["escalations"][0]["trigger"], "direct_request");
    let id = queued["id"].as_str().unwrap().to_owned();

    // While humans own the ticket, the bot records but does not answer.
    desk.customer_says(customer, "are you there?").await?;
    desk.ticket_where(&token, &id, |t| timeline_has(t, "are you there?"))
        .await?;

    // The agent's reply reaches the customer.
    let (status, _) = desk
        .api(
            "POST",
            Some(&token),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"text": "Hi, I'm Ana. Let me check."})),
        )
        .await?;
    assert_eq!(status, 202);
    let inbox = desk.inbox_of_at_least(customer, 3).await?;
    assert_eq!(inbox.len(), 3, "the bot stayed silent: {inbox:#?}");
    assert_eq!(text_of(&inbox[2]), "Hi, I'm Ana. Let me check.");
    let ticket = desk
        .ticket_where(&token, &id, |t| t["ticket"]["status"] == "assigned")
        .await?;
    assert_eq!(ticket["ticket"]["assignee"], "ana");

    // Resolved: the next message opens a new ticket and the bot greets again.
    let (status, _) = desk
        .api("POST", Some(&token), &format!("/api/tickets/{id}/resolve"), None)
        .await?;
    assert_eq!(status, 202);
    desk.ticket_where(&token, &id, |t| t["ticket"]["status"] == "resolved")
        .await?;
    // The customer is asked to rate the help; writing instead starts afresh.
    let inbox = desk.inbox_of_at_least(customer, 4).await?;
    assert_eq!(text_of(&inbox[3]), "How would you rate the help you received?");
    desk.customer_says(customer, "one more question").await?;
    let inbox = desk.inbox_of_at_least(customer, 5).await?;
    assert_eq!(text_of(&inbox[4]), greeting(customer));
    desk.stop().await;
    Ok(())
}

fn timeline_has(ticket: &Value, summary: &str) -> bool {
    ticket["timeline"]
        .as_array()
        .is_some_and(|tl| tl.iter().any(|e| e["summary"] == summary))
}

#[tokio::test]
async fn delivery_statuses_move_the_outbound_entry_forward_to_read() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    desk.customer_says("15551230003", "hi").await?;
    let token = desk.token("ana", "support").await?;
    let ticket = desk.first_ticket_in(&token, "bot").await?;
    let id = ticket["id"].as_str().unwrap().to_owned();
    desk.ticket_where(&token, &id, |t| {
        t["timeline"].as_array().is_some_and(|tl| {
            tl.iter()
                .any(|e| e["direction"] == "outbound" && e["delivery"] == "read")
        })
    })
    .await?;
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_webhook_delivered_twice_stores_one_timeline_entry_and_gets_one_reply() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551230004";
    // The customer opens the conversation (and WhatsApp's 24-hour window).
    desk.customer_says(customer, "hi").await?;
    desk.inbox_of_at_least(customer, 1).await?;

    // Meta delivers the next message twice, as it does after a timeout.
    let body = json!({"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},
        "contacts":[{"profile":{"name":"Dup"},"wa_id":customer}],
        "messages":[{"from":customer,"id":"wamid.DUPLICATE-1","timestamp":"1795237200","type":"text","text":{"body":"hi twice"}}]}}]}]})
    .to_string();
    let signature = sign(b"local-app-secret", body.as_bytes());
    for _ in 0..2 {
        let response = desk
            .http
            .post(format!("{}/webhook", desk.runner.http_url))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &signature)
            .body(body.clone())
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), 200);
    }

    let token = desk.token("ana", "support").await?;
    let ticket = desk.first_ticket_in(&token, "bot").await?;
    let id = ticket["id"].as_str().unwrap().to_owned();
    let complete = |t: &Value| t["timeline"].as_array().is_some_and(|tl| tl.len() >= 4);
    desk.ticket_where(&token, &id, complete).await?;
    // Give a duplicate time to show up, should one have slipped through.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let detail_later = desk.ticket_where(&token, &id, complete).await?;
    let summaries: Vec<_> = detail_later["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["summary"].clone())
        .collect();
    assert_eq!(
        summaries.iter().filter(|s| **s == "hi twice").count(),
        1,
        "{summaries:?}"
    );
    assert_eq!(
        summaries.len(),
        4,
        "hi, greeting, hi twice, one reprompt: {summaries:?}"
    );
    assert_eq!(
        desk.inbox(customer).await?.len(),
        2,
        "one reply to the duplicated message, not two"
    );
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_forged_signature_is_refused_and_nothing_is_stored() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let body = json!({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
        "metadata":{"phone_number_id":"100000000000001"},
        "messages":[{"from":"15551230005","id":"wamid.FORGED","timestamp":"1","type":"text","text":{"body":"agent"}}]}}]}]})
    .to_string();
    let response = desk
        .http
        .post(format!("{}/webhook", desk.runner.http_url))
        .header("x-hub-signature-256", sign(b"not-the-app-secret", body.as_bytes()))
        .body(body)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 401);
    let token = desk.token("ana", "support").await?;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for status in ["bot", "queued"] {
        let (_, list) = desk
            .api("GET", Some(&token), &format!("/api/tickets?status={status}"), None)
            .await?;
        assert_eq!(list["tickets"], json!([]));
    }
    assert!(desk.inbox("15551230005").await?.is_empty());
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_transient_graph_error_is_retried_and_the_reply_still_arrives() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    desk.http
        .post(format!("{}/_sim/faults", desk.sim.url))
        .json(&json!({"graph_send": {"status": 500, "times": 2}}))
        .send()
        .await?
        .error_for_status()?;
    desk.customer_says("15551230006", "hi").await?;
    let inbox = desk.inbox_of_at_least("15551230006", 1).await?;
    assert_eq!(text_of(&inbox[0]), greeting("15551230006"));
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn the_agent_api_needs_a_token_and_hides_other_teams_tickets() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let (status, _) = desk.api("GET", None, "/api/tickets", None).await?;
    assert_eq!(status, 401);

    desk.customer_says("15551230007", "hi").await?;
    let ana = desk.token("ana", "support").await?;
    let ticket = desk.first_ticket_in(&ana, "bot").await?;
    let id = ticket["id"].as_str().unwrap();

    let bob = desk.token("bob", "billing").await?;
    let (status, body) = desk.api("GET", Some(&bob), &format!("/api/tickets/{id}"), None).await?;
    assert_eq!(status, 403, "{body}");
    let (status, _) = desk.api("GET", Some(&bob), "/api/tickets?team=support", None).await?;
    assert_eq!(status, 403);
    let (status, _) = desk
        .api(
            "POST",
            Some(&bob),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"text": "hi"})),
        )
        .await?;
    assert_eq!(status, 403);
    let (status, _) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"text": ""})),
        )
        .await?;
    assert_eq!(status, 400);
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn statuses_for_messages_the_helpdesk_never_sent_are_kept_without_failing() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let body = json!({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
        "metadata":{"phone_number_id":"100000000000001"},
        "statuses":[{"id":"wamid.UNKNOWN","status":"delivered","timestamp":"1795237200","recipient_id":"15551230008"}]}}]}]})
    .to_string();
    let response = desk
        .http
        .post(format!("{}/webhook", desk.runner.http_url))
        .header("x-hub-signature-256", sign(b"local-app-secret", body.as_bytes()))
        .body(body)
        .send()
        .await?;
    assert_eq!(response.status().as_u16(), 200);
    let dlq = desk.aws.output("TicketsDlqUrl");
    let sdk = desk.aws.sdk().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let table = desk.aws.output("HelpdeskTableName");
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    eventually("the parked status", || async {
        let item = dynamo
            .get_item()
            .table_name(&table)
            .key(keys::PK, AttributeValue::S(keys::wamid_pk("wamid.UNKNOWN")))
            .key(keys::SK, AttributeValue::S(keys::PARKED_STATUS_SK.into()))
            .send()
            .await?;
        Ok(item.item.map(|_| ()))
    })
    .await?;
    let dead = sqs.receive_message().queue_url(dlq).wait_time_seconds(1).send().await?;
    assert!(dead.messages().is_empty());
    desk.stop().await;
    Ok(())
}
