//! Message templates through the whole local helpdesk: the agent API lists
//! the simulator's approved templates, refuses a text once the customer's
//! 24-hour window has closed (offering the templates in their language), and
//! sends a template reply that reaches the customer's WhatsApp.

use helpdesk_tests::Helpdesk;
use serde_json::{Value, json};

const CUSTOMER: &str = "15551260001";

#[tokio::test]
async fn after_the_window_closed_an_agent_is_offered_templates_and_a_template_reply_reaches_the_customer()
-> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let ana = desk.token("ana", "support").await?;
    // A template of the business's own, approved in English and French
    // (the simulator also has its seed: order_update, sla_update…).
    let registered = desk
        .sim(
            "POST",
            "/_sim/templates",
            Some(
                json!({"name": "agent_follow_up", "language": ["en", "fr"], "category": "utility",
                "body_text": "Hello {{1}}, there is news about your request {{2}}.", "quick_replies": ["Thanks"]}),
            ),
        )
        .await?;
    assert!(
        registered["templates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "agent_follow_up")
    );

    // The customer asks for an agent.
    desk.customer_says(CUSTOMER, "hello").await?;
    desk.inbox_of_at_least(CUSTOMER, 1).await?;
    desk.customer_taps(CUSTOMER, "menu.agent", "Talk to an agent").await?;
    let ticket = desk.first_ticket_in(&ana, "queued").await?;
    let id = ticket["id"].as_str().unwrap().to_owned();
    let seen = desk.inbox_of_at_least(CUSTOMER, 2).await?.len();

    // The approved templates, the customer's language (English) first; the
    // one-time-code template is not offered.
    let (status, listed) = desk
        .api("GET", Some(&ana), &format!("/api/templates?ticket={id}"), None)
        .await?;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        (listed["language"].as_str(), listed["window"]["open"].as_bool()),
        (Some("en"), Some(true))
    );
    let templates = listed["templates"].as_array().unwrap();
    let english = templates.iter().take_while(|t| t["customer_language"] == true).count();
    assert!(english >= 2 && templates[english..].iter().all(|t| t["customer_language"] == false));
    assert!(templates[..english].iter().all(|t| t["language"] == "en"));
    let follow_up = templates
        .iter()
        .find(|t| t["name"] == "agent_follow_up" && t["language"] == "en")
        .expect("the registered template is listed");
    assert_eq!(
        (follow_up["parameters"].as_u64(), &follow_up["quick_replies"]),
        (Some(2), &json!(["Thanks"]))
    );
    assert!(!templates.iter().any(|t| t["name"] == "login_code"));

    // A day later the window is closed: a text is refused, with the templates offered.
    desk.advance_clock(25 * 60).await?;
    let (status, closed) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"text": "Any news?"})),
        )
        .await?;
    assert_eq!(
        (status, closed["code"].as_str()),
        (409, Some("window_closed")),
        "{closed}"
    );
    let offered = closed["templates"].as_array().unwrap();
    assert!(
        offered
            .iter()
            .all(|t| t["language"] == "en" && t["customer_language"] == true)
    );
    assert!(offered.iter().any(|t| t["name"] == "agent_follow_up"), "{closed}");

    // A template with a wrong parameter count is refused; the right one is sent.
    let (status, wrong) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"template": {"name": "agent_follow_up", "language": "en", "parameters": ["Ana"]}})),
        )
        .await?;
    assert_eq!((status, wrong["code"].as_str()), (400, Some("bad_request")), "{wrong}");
    let (status, sent) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"template": {"name": "agent_follow_up", "language": "en", "parameters": ["there", id]}})),
        )
        .await?;
    assert_eq!(status, 202, "{sent}");
    assert_eq!(
        sent["template"]["preview"],
        format!("Hello there, there is news about your request {id}. [Thanks]")
    );

    // It reaches the customer's WhatsApp as that template, and the ticket is Ana's.
    let inbox = desk.inbox_of_at_least(CUSTOMER, seen + 1).await?;
    let message: &Value = &inbox.last().unwrap()["message"];
    assert_eq!(message["type"], "template", "{message}");
    assert_eq!(message["template"]["name"], "agent_follow_up");
    assert_eq!(message["template"]["language"]["code"], "en");
    assert_eq!(
        message["template"]["components"][0]["parameters"],
        json!([{"type": "text", "text": "there"}, {"type": "text", "text": id}])
    );
    desk.ticket_where(&ana, &id, |t| {
        t["ticket"]["assignee"] == "ana"
            && t["timeline"].as_array().unwrap().iter().any(|e| {
                e["direction"] == "outbound" && e["summary"].as_str().unwrap_or("").contains("agent_follow_up")
            })
    })
    .await?;
    desk.stop().await;
    Ok(())
}
