//! What agents send besides text, through the whole local helpdesk: a file
//! uploaded to the media bucket (moto) through a presigned link, checked,
//! then uploaded to the Graph API (the simulator) by the sender and sent as a
//! document quoting the customer's message; and a reaction to that message.

use helpdesk_tests::Helpdesk;
use serde_json::{Value, json};

const CUSTOMER: &str = "15551270001";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n";

/// The bytes the simulator holds for a media id, fetched as Meta serves them.
async fn media_bytes(desk: &Helpdesk, media_id: &str) -> anyhow::Result<Vec<u8>> {
    let token = devstack::LocalSecrets::default().access_token;
    let info: Value = desk
        .http
        .get(format!("{}/v25.0/{media_id}", desk.sim.url))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let url = info["url"].as_str().unwrap_or_default();
    let bytes = desk
        .http
        .get(url)
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(bytes.to_vec())
}

#[tokio::test]
async fn an_agent_sends_a_file_quoting_the_customer_and_reacts_to_their_message() -> anyhow::Result<()> {
    let desk = Helpdesk::start().await?;
    let ana = desk.token("ana", "support").await?;
    desk.customer_says(CUSTOMER, "hello").await?;
    desk.inbox_of_at_least(CUSTOMER, 1).await?;
    desk.customer_taps(CUSTOMER, "menu.agent", "Talk to an agent").await?;
    let ticket = desk.first_ticket_in(&ana, "queued").await?;
    let id = ticket["id"].as_str().unwrap().to_owned();
    let asked = desk.customer_says(CUSTOMER, "Can you send me my invoice?").await?;
    let wamid = asked["wamid"].as_str().unwrap().to_owned();
    desk.ticket_where(&ana, &id, |t| {
        t["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == wamid.as_str())
    })
    .await?;
    let seen = desk.inbox(CUSTOMER).await?.len();

    // The console asks for an upload link and PUTs the file to the bucket.
    let (status, upload) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{id}/attachments"),
            Some(json!({"filename": "invoice-42.pdf", "content_type": "application/pdf", "size": PDF.len()})),
        )
        .await?;
    assert_eq!(status, 201, "{upload}");
    assert_eq!(upload["kind"], "document");
    desk.http
        .put(upload["upload"]["url"].as_str().unwrap())
        .header("content-type", "application/pdf")
        .body(PDF.to_vec())
        .send()
        .await?
        .error_for_status()?;

    // The reply names the upload and quotes the customer's question.
    let (status, sent) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{id}/reply"),
            Some(json!({"attachment": {"id": upload["id"], "caption": "Your invoice"}, "reply_to": wamid})),
        )
        .await?;
    assert_eq!(status, 202, "{sent}");
    let inbox = desk.inbox_of_at_least(CUSTOMER, seen + 1).await?;
    let message = &inbox[seen]["message"];
    assert_eq!(message["type"], "document", "{message}");
    assert_eq!(
        (
            message["document"]["filename"].as_str(),
            message["document"]["caption"].as_str()
        ),
        (Some("invoice-42.pdf"), Some("Your invoice"))
    );
    assert_eq!(message["context"]["message_id"], wamid.as_str());
    let media_id = message["document"]["id"].as_str().unwrap();
    assert_eq!(
        media_bytes(&desk, media_id).await?,
        PDF,
        "the customer gets the agent's file"
    );

    // A thumbs-up on the customer's message.
    let (status, reacted) = desk
        .api(
            "POST",
            Some(&ana),
            &format!("/api/tickets/{id}/react"),
            Some(json!({"message_id": wamid, "emoji": "👍"})),
        )
        .await?;
    assert_eq!(status, 202, "{reacted}");
    let inbox = desk.inbox_of_at_least(CUSTOMER, seen + 2).await?;
    assert_eq!(
        inbox[seen + 1]["message"]["reaction"],
        json!({"message_id": wamid, "emoji": "👍"})
    );

    // The timeline shows the document (with what it quoted) and the reaction.
    desk.ticket_where(&ana, &id, |t| {
        let timeline = t["timeline"].as_array().unwrap();
        let document = timeline
            .iter()
            .any(|e| e["kind"] == "document" && e["message"]["message_id"] == wamid.as_str());
        let reaction = timeline.iter().any(|e| e["kind"] == "reaction");
        document && reaction && t["ticket"]["assignee"] == "ana"
    })
    .await?;
    desk.stop().await;
    Ok(())
}
