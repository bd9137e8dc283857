//! What agents send besides text and templates: files, quotes of a
//! customer's message and reactions to it.
//!
//! A file goes in two steps. `POST /api/tickets/{id}/attachments` checks the
//! declared name, type and size and answers a presigned `PUT` link into the
//! media bucket (`media/<ticket>/out/<upload id>/<file name>`); the browser
//! uploads there. A reply then names the upload (`{"attachment": {"id":
//! ...}}`): its first bytes are checked like a customer's file (real type,
//! size, nothing dangerous) and the sender uploads it to the Graph API and
//! sends it as an image, video, audio or document.

use crate::auth::Agent;
use crate::error::ApiError;
use crate::http::{Answer, idempotency_key, parse_body};
use crate::{AgentApi, AgentStore};
use helpdesk::domain::commands::{Action, AgentAction, TicketCommand};
use helpdesk::domain::inbound::InboundEvent;
use helpdesk::domain::media::{check_file, sha256_hex};
use helpdesk::domain::outbound::{OutboundBody, SentMedia, safe_filename};
use helpdesk::domain::ticket::{Direction, Ticket, TicketStatus};
use helpdesk::ports::{Clock, MediaLinks, Queue, StoreError};
use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;

/// How long an upload link is valid.
pub const UPLOAD_LINK_TTL: Duration = Duration::from_secs(5 * 60);
/// How much of a file is read to tell its real type.
const SNIFF_BYTES: u64 = 8 * 1024;

/// `POST /api/tickets/{id}/attachments`: the file the agent is about to upload.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadBody {
    /// The file's name as the customer will see it (`invoice.pdf`).
    pub filename: String,
    /// Its type: images (jpeg, png), videos (mp4, 3gpp), audio (aac, amr,
    /// mpeg, mp4, ogg) or documents (pdf, plain text, Office).
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// Its size in bytes: images up to 5 MB, everything else up to 16 MB.
    #[schema(minimum = 1)]
    pub size: u64,
}

/// `{"attachment": {...}}` of `POST /api/tickets/{id}/reply`: a file uploaded
/// through `POST /api/tickets/{id}/attachments`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentReply {
    /// The upload's `id`.
    pub id: String,
    /// Shown under an image, video or document: up to 1024 characters.
    #[serde(default)]
    pub caption: Option<String>,
}

/// `POST /api/tickets/{id}/react`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactBody {
    /// The customer's message (its wamid, the timeline entry's `id`).
    pub message_id: String,
    /// One emoji; empty removes the reaction.
    pub emoji: String,
}

/// Where an upload is kept: under the ticket, so an upload id names a file
/// of this ticket only.
fn upload_key(ticket: &Ticket, id: &str) -> String {
    format!("media/{}/out/{id}", ticket.id.as_str())
}

/// An upload id: `<20 hex>/<file name>`.
fn parse_upload_id(id: &str) -> Option<(&str, &str)> {
    let (token, name) = id.split_once('/')?;
    let ok = token.len() == 20
        && token.bytes().all(|b| b.is_ascii_hexdigit())
        && safe_filename(name).as_deref() == Some(name);
    ok.then_some((token, name))
}

impl<S, T, O, C, L> AgentApi<S, T, O, C, L>
where
    S: AgentStore,
    T: Queue<TicketCommand>,
    O: Queue<InboundEvent>,
    C: Clock,
    L: MediaLinks,
{
    /// `POST /api/tickets/{id}/attachments`: 201 with the upload's id and a
    /// link to `PUT` the file to (with its `Content-Type`), valid 5 minutes.
    /// The same request (its `Idempotency-Key`) answers the same id.
    pub(crate) async fn request_upload(&self, request: &Request, id: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let ticket = self.visible_ticket(id, agent).await?;
        if ticket.status == TicketStatus::Resolved {
            return Err(ApiError::Resolved(ticket.id));
        }
        let body: UploadBody = parse_body(
            request,
            "{\"filename\": \"invoice.pdf\", \"content_type\": \"application/pdf\", \"size\": 12345}",
        )?;
        let filename = safe_filename(&body.filename)
            .ok_or_else(|| ApiError::BadRequest("filename: must name a file (letters or digits)".into()))?;
        let content_type = body.content_type.trim().to_ascii_lowercase();
        let kind = SentMedia::of_mime(&content_type);
        if !kind.sends(&content_type) {
            return Err(ApiError::BadRequest(format!(
                "content_type: WhatsApp does not send {content_type:?} files; send images as jpeg or png, \
                 videos as mp4 or 3gpp, audio as aac, amr, mpeg, mp4 or ogg, documents as pdf, plain text or Office files"
            )));
        }
        kind.check_size(body.size)
            .map_err(|refusal| ApiError::BadRequest(format!("size: {refusal}")))?;
        let token = &sha256_hex(format!("{}:{}:{}", ticket.id, agent.name, idempotency_key(request)).as_bytes())[..20];
        let upload_id = format!("{token}/{filename}");
        let key = upload_key(&ticket, &upload_id);
        let upload = self
            .media
            .presign_put(&key, &content_type, UPLOAD_LINK_TTL)
            .await
            .map_err(|e| ApiError::Store(StoreError::Backend(e)))?;
        let expires_at_ms = self.clock.now_ms() + UPLOAD_LINK_TTL.as_millis() as i64;
        Ok(Answer::created(json!({
            "id": upload_id,
            "kind": kind.as_str(),
            "filename": filename,
            "content_type": content_type,
            "size": body.size,
            "upload": {
                "method": "PUT",
                "url": upload.url,
                "headers": upload.headers.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
                "expires_at_ms": expires_at_ms,
            },
        })))
    }

    /// The message a reply with an uploaded file sends, once the file is
    /// stored and passes the checks a customer's file passes.
    pub(crate) async fn attachment_message(
        &self,
        ticket: &Ticket,
        reply: AttachmentReply,
    ) -> Result<OutboundBody, ApiError> {
        let bad = |why: String| ApiError::BadRequest(format!("attachment: {why}"));
        let (_, filename) = parse_upload_id(&reply.id).ok_or_else(|| {
            bad(format!(
                "{:?} is not an upload id of POST /api/tickets/{{id}}/attachments",
                reply.id
            ))
        })?;
        let key = upload_key(ticket, &reply.id);
        let head = self
            .media
            .read_head(&key, SNIFF_BYTES)
            .await
            .map_err(|e| ApiError::Store(StoreError::Backend(e)))?
            .ok_or_else(|| bad("nothing was uploaded under this id (or its upload link expired)".into()))?;
        let claimed = head.content_type.unwrap_or_default();
        let kind = SentMedia::of_mime(&claimed);
        kind.check_size(head.size).map_err(|refusal| bad(refusal.to_string()))?;
        let sniffed = check_file(kind.kind(), &claimed, &head.head).map_err(|refusal| bad(refusal.to_string()))?;
        if !kind.sends(&sniffed.mime) {
            return Err(bad(format!("WhatsApp does not send {} files", sniffed.mime)));
        }
        let caption = reply.caption.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        let message = OutboundBody::Media {
            kind,
            key,
            mime: sniffed.mime,
            filename: Some(filename.to_owned()),
            caption,
            media_id: None,
        };
        message.validate().map_err(|e| bad(e.to_string()))?;
        Ok(message)
    }

    /// Checks that `wamid` is a message the customer sent on this ticket (and
    /// did not withdraw): what an agent may quote or react to.
    pub(crate) async fn customer_message(&self, ticket: &Ticket, wamid: &str, field: &str) -> Result<(), ApiError> {
        let entry = self.store.timeline_entry(&ticket.id, wamid).await?;
        match entry {
            Some(e) if e.direction == Direction::Inbound && !e.withdrawn => Ok(()),
            Some(e) if e.withdrawn => Err(ApiError::BadRequest(format!(
                "{field}: the customer withdrew this message"
            ))),
            _ => Err(ApiError::BadRequest(format!(
                "{field}: not a message from the customer on ticket {}",
                ticket.id
            ))),
        }
    }

    /// `POST /api/tickets/{id}/react {"message_id": "wamid…", "emoji": "👍"}`:
    /// 202 while `tickets` sends it (inside the 24-hour window; it does not
    /// count as an answer).
    pub(crate) async fn react(&self, request: &Request, id: &str, agent: &Agent) -> Result<Answer, ApiError> {
        let (ticket, expected_version) = self.current(request, id, agent).await?;
        if ticket.status == TicketStatus::Resolved {
            return Err(ApiError::Resolved(ticket.id));
        }
        let body: ReactBody = parse_body(request, "{\"message_id\": \"wamid...\", \"emoji\": \"👍\"}")?;
        let emoji = body.emoji.trim().to_owned();
        OutboundBody::Reaction {
            message_id: body.message_id.clone(),
            emoji: emoji.clone(),
        }
        .validate()
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        self.customer_message(&ticket, &body.message_id, "message_id").await?;
        let now = self.clock.now_ms();
        if !ticket.window_open(now) {
            return Err(ApiError::Conflict(
                "window_closed",
                "the customer's 24-hour window is closed: a reaction no longer reaches them".into(),
            ));
        }
        self.tickets
            .send(&[TicketCommand::AgentAction(AgentAction {
                ticket_id: ticket.id.clone(),
                customer: ticket.customer.clone(),
                agent: agent.name.clone(),
                at_ms: now,
                request_id: idempotency_key(request),
                // Only `If-Match` holds a reaction back: a delivery status
                // moving the ticket on is no reason to drop it.
                expected_version,
                action: Action::React {
                    message_id: body.message_id,
                    emoji: emoji.clone(),
                },
            })])
            .await?;
        Ok(Answer::accepted(
            json!({"status": "queued", "ticket_id": ticket.id, "emoji": emoji}),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_id_is_a_token_and_a_safe_file_name() {
        assert!(parse_upload_id("0123456789abcdef0123/invoice.pdf").is_some());
        assert!(parse_upload_id("0123456789abcdef0123/../x.pdf").is_none());
        assert!(parse_upload_id("0123456789abcdef0123/a/b.pdf").is_none());
        assert!(parse_upload_id("short/invoice.pdf").is_none());
        assert!(parse_upload_id("invoice.pdf").is_none());
    }
}
