//! An agent writes first, through the whole local helpdesk: refused until
//! the customer's opt-in is recorded, then a template on a new ticket
//! assigned to the agent, whose answer lands on that ticket with the bot
//! silent; the customer's "STOP" records their opt-out, the bot confirms it
//! once, and the next attempt is refused.

use helpdesk_tests::{Helpdesk, eventually};
use serde_json::{Value, json};

const CUSTOMER: &str = "15551280001";

fn order_update() -> Value {
    json!({"template": {"name": "order_update", "language": "en", "parameters": ["AB-1234"]}})
}

#[tokio::test]
async fn an_agent_writes_first_to_a_customer_who_opted_in_and_stop_ends_it() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let ana = desk.token("ana", "support").await?;
    let write_first = format!("/api/customers/{CUSTOMER}/messages");

    // The customer wrote once; that ticket is resolved.
    desk.customer_says(CUSTOMER, "hello").await?;
    desk.inbox_of_at_least(CUSTOMER, 1).await?;
    let (_, found) = desk
        .api("GET", Some(&ana), &format!("/api/search?q={CUSTOMER}&by=phone"), None)
        .await?;
    let old = found["tickets"][0]["id"].as_str().unwrap_or_default().to_owned();
    assert!(!old.is_empty(), "{found}");
    let (status, _) = desk
        .api("POST", Some(&ana), &format!("/api/tickets/{old}/resolve"), None)
        .await?;
    assert_eq!(status, 202);
    desk.ticket_where(&ana, &old, |t| t["ticket"]["status"] == "resolved")
        .await?;

    // No opt-in yet: refused, nothing sent.
    let (status, refused) = desk.api("POST", Some(&ana), &write_first, Some(order_update())).await?;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("no_opt_in")),
        "{refused}"
    );

    // Ana records the customer's opt-in; the message then opens a ticket of hers.
    let (status, _) = desk
        .api(
            "PUT",
            Some(&ana),
            &format!("/api/customers/{CUSTOMER}/consent"),
            Some(json!({"status": "opted_in", "source": "signed form at the counter"})),
        )
        .await?;
    assert_eq!(status, 202);
    desk.ticket_where(&ana, &old, |t| t["customer_profile"]["consent"]["status"] == "opted_in")
        .await?;
    let seen = desk.inbox(CUSTOMER).await?.len();
    let (status, opened) = desk.api("POST", Some(&ana), &write_first, Some(order_update())).await?;
    assert_eq!(status, 202, "{opened}");
    let id = opened["ticket_id"].as_str().unwrap().to_owned();
    let inbox = desk.inbox_of_at_least(CUSTOMER, seen + 1).await?;
    assert_eq!(inbox[seen]["message"]["template"]["name"], "order_update");
    desk.ticket_where(&ana, &id, |t| {
        t["ticket"]["status"] == "assigned" && t["ticket"]["assignee"] == "ana"
    })
    .await?;

    // The customer's answer lands on that ticket; the bot says nothing.
    let answer = desk.customer_says(CUSTOMER, "Great, when does it arrive?").await?;
    let wamid = answer["wamid"].as_str().unwrap().to_owned();
    desk.ticket_where(&ana, &id, |t| {
        t["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == wamid.as_str())
    })
    .await?;
    assert_eq!(desk.inbox(CUSTOMER).await?.len(), seen + 1, "the bot stays silent");
    let (status, _) = desk
        .api("POST", Some(&ana), &format!("/api/tickets/{id}/resolve"), None)
        .await?;
    assert_eq!(status, 202);
    desk.ticket_where(&ana, &id, |t| t["ticket"]["status"] == "resolved")
        .await?;

    // STOP: the opt-out is recorded and confirmed; the next attempt is refused.
    let before_stop = desk.inbox(CUSTOMER).await?.len();
    desk.customer_says(CUSTOMER, "STOP").await?;
    let inbox = desk.inbox_of_at_least(CUSTOMER, before_stop + 1).await?;
    let confirmation = &inbox[before_stop]["message"];
    assert!(
        confirmation["text"]["body"]
            .as_str()
            .unwrap_or_default()
            .contains("START"),
        "{confirmation}"
    );
    let refused = eventually("the opt-out recorded", || async {
        let (status, refused) = desk.api("POST", Some(&ana), &write_first, Some(order_update())).await?;
        Ok((status == 409 && refused["code"] == "opted_out").then_some(refused))
    })
    .await?;
    assert!(refused["error"].as_str().unwrap().contains("opted out"), "{refused}");
    desk.stop().await;
    Ok(())
}
