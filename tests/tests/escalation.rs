//! Escalations end to end: the customer is told, the ticket explains why, the
//! team's Slack and Teams channels are notified, agents transfer to specialists.

use helpdesk_tests::{Helpdesk, eventually, text_of};
use serde_json::{Value, json};

async fn notifications(desk: &Helpdesk) -> anyhow::Result<Vec<Value>> {
    desk.notifications().await
}

#[tokio::test]
async fn a_french_customer_who_shouts_after_a_failed_answer_reaches_a_human_and_the_team_is_notified()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "33612345678";
    desk.customer_says(customer, "Bonjour").await?;
    desk.inbox_of_at_least(customer, 1).await?;
    desk.customer_says(customer, "Je ne comprends rien à votre menu")
        .await?;
    desk.inbox_of_at_least(customer, 2).await?;

    desk.customer_says(customer, "C'EST INUTILE !!!").await?;

    let inbox = desk.inbox_of_at_least(customer, 3).await?;
    let told = text_of(&inbox[2]);
    assert!(told.contains("support client") && told.contains("30 minutes"), "{told}");
    let token = desk.token("ana", "support").await?;
    let ticket = desk.first_ticket_in(&token, "queued").await?;
    assert_eq!(ticket["escalations"][0]["trigger"], "frustration");
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["context"]["language"], "fr");
    assert_eq!(ticket["context"]["frustration"]["lexicon_words"], json!(["inutile"]));
    let id = ticket["id"].as_str().unwrap().to_owned();

    let posts = eventually("the slack and teams notifications", || async {
        let all = notifications(&desk).await?;
        let mine: Vec<Value> = all
            .into_iter()
            .filter(|n| n["body"].to_string().contains(&id))
            .collect();
        Ok((mine.len() >= 2).then_some(mine))
    })
    .await?;
    let kinds: Vec<&str> = posts.iter().filter_map(|p| p["kind"].as_str()).collect();
    assert!(kinds.contains(&"slack") && kinds.contains(&"teams"), "{kinds:?}");
    for post in &posts {
        assert_eq!(post["team"], "support");
        let body = post["body"].to_string();
        assert!(
            !body.contains(customer),
            "a notification leaked the phone number: {body}"
        );
        assert!(body.contains("INUTILE"), "the short excerpt is there: {body}");
    }
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_agent_transfers_a_ticket_to_the_tier_three_specialists_who_are_notified() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551230100";
    desk.customer_says(customer, "hello").await?;
    desk.customer_taps(customer, "menu.agent", "Talk to an agent").await?;
    let token = desk.token("ana", "support").await?;
    let ticket = desk.first_ticket_in(&token, "queued").await?;
    let id = ticket["id"].as_str().unwrap().to_owned();

    let (status, _) = desk
        .api(
            "POST",
            Some(&token),
            &format!("/api/tickets/{id}/transfer"),
            Some(json!({"team": "nobody", "reason": "x"})),
        )
        .await?;
    assert_eq!(status, 400);
    let (status, body) = desk
        .api(
            "POST",
            Some(&token),
            &format!("/api/tickets/{id}/transfer"),
            Some(json!({"team": "tech", "reason": "firmware crash needs a specialist"})),
        )
        .await?;
    assert_eq!(status, 202, "{body}");

    let tech = desk.token("tom", "tech").await?;
    let moved = desk.ticket_where(&tech, &id, |t| t["ticket"]["team"] == "tech").await?;
    assert_eq!(moved["ticket"]["tier"], 3);
    assert_eq!(moved["ticket"]["escalations"][1]["trigger"], "transfer");
    let (status, _) = desk
        .api("GET", Some(&token), &format!("/api/tickets/{id}"), None)
        .await?;
    assert_eq!(status, 403, "support no longer sees the tech team's ticket");
    eventually("the tech team's Teams card", || async {
        let all = notifications(&desk).await?;
        Ok(all
            .iter()
            .find(|n| n["team"] == "tech" && n["kind"] == "teams" && n["body"].to_string().contains(&id))
            .cloned())
    })
    .await?;
    desk.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_vip_set_through_the_agent_api_skips_the_menu() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let customer = "15551230101";
    let token = desk.token("lead", "support,leads").await?;
    let (status, _) = desk
        .api(
            "PUT",
            Some(&token),
            &format!("/api/customers/{customer}/tier"),
            Some(json!({"tier": "gold"})),
        )
        .await?;
    assert_eq!(status, 400);
    desk.make_vip(&token, customer).await?;

    desk.customer_says(customer, "hello").await?;

    let inbox = desk.inbox_of_at_least(customer, 1).await?;
    assert!(text_of(&inbox[0]).contains("valued customer"), "{}", text_of(&inbox[0]));
    let ticket = desk.first_ticket_in(&token, "queued").await?;
    assert_eq!(ticket["priority"], "high");
    desk.stop().await;
    Ok(())
}
