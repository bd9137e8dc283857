//! The Cloud API's sending side over HTTP (`POST /{version}/{phone-number-id}/messages`).

use crate::domain::identity::Address;
use crate::domain::outbound::OutboundBody;
use crate::domain::templates::MessageTemplate;
use crate::ports::{BoxError, GraphApi, GraphError, MediaDownload, MediaInfo, MediaSource, TemplateSource};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::time::Duration;

/// The Graph API version called unless `WHATSAPP_API_VERSION` says otherwise:
/// one with a long life ahead (v25.0 is served until 2028-07-29).
pub const DEFAULT_API_VERSION: &str = "v25.0";

pub struct GraphClient {
    http: reqwest::Client,
    base_url: String,
    version: String,
    access_token: SecretString,
}

impl GraphClient {
    /// `base_url` is Meta's (`https://graph.facebook.com`) or a simulator's.
    pub fn new(base_url: &str, version: &str, access_token: SecretString) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(3))
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        Ok(GraphClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            version: version.to_owned(),
            access_token,
        })
    }
}

impl GraphClient {
    /// The client a function's environment names: `WHATSAPP_GRAPH_URL` (Meta's by
    /// default, the simulator locally) and `WHATSAPP_API_VERSION`.
    pub fn from_env(env: &crate::config::Env, access_token: SecretString) -> Result<Self, reqwest::Error> {
        GraphClient::new(
            env.or("WHATSAPP_GRAPH_URL", "https://graph.facebook.com"),
            env.or("WHATSAPP_API_VERSION", DEFAULT_API_VERSION),
            access_token,
        )
    }
}

impl GraphApi for GraphClient {
    async fn send_message(
        &self,
        phone_number_id: &str,
        to: &Address,
        body: &OutboundBody,
    ) -> Result<String, GraphError> {
        let url = format!("{}/{}/{}/messages", self.base_url, self.version, phone_number_id);
        let response = self
            .http
            .post(url)
            .bearer_auth(self.access_token.expose_secret())
            .json(&body.to_graph_json(to))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let json: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(id) = json.pointer("/messages/0/id").and_then(Value::as_str)
            && (200..300).contains(&status)
        {
            return Ok(id.to_owned());
        }
        // Marking a message read answers `{"success": true}`, no message id.
        if !body.is_message() && (200..300).contains(&status) && json.get("success") == Some(&Value::Bool(true)) {
            return Ok(String::new());
        }
        Err(GraphClient::error_of(status, &json, retry_after))
    }

    async fn upload_media(
        &self,
        phone_number_id: &str,
        bytes: Vec<u8>,
        mime: &str,
        filename: &str,
    ) -> Result<String, GraphError> {
        let url = format!("{}/{}/{}/media", self.base_url, self.version, phone_number_id);
        let file = reqwest::multipart::Part::bytes(bytes)
            .file_name(filename.to_owned())
            .mime_str(mime)
            .map_err(|_| GraphClient::error_of(400, &Value::Null, None))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime.to_owned())
            .part("file", file);
        let response = self
            .http
            .post(url)
            .bearer_auth(self.access_token.expose_secret())
            // A 16 MB file takes longer than a message (and less than the
            // sender's 10-second budget).
            .timeout(Duration::from_secs(8))
            .multipart(form)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let json: Value = response.json().await.unwrap_or(Value::Null);
        match json.get("id").and_then(Value::as_str) {
            Some(id) if (200..300).contains(&status) => Ok(id.to_owned()),
            _ => Err(GraphClient::error_of(status, &json, None)),
        }
    }
}

/// The Graph API could not be reached at all (transient: see [`GraphError::is_transient`]).
fn unreachable(_: reqwest::Error) -> GraphError {
    GraphError {
        http_status: 0,
        code: 0,
        subcode: None,
        retry_after: None,
    }
}

impl GraphClient {
    fn error_of(status: u16, json: &Value, retry_after: Option<u64>) -> GraphError {
        GraphError {
            http_status: status,
            code: json.pointer("/error/code").and_then(Value::as_i64).unwrap_or(0),
            subcode: json.pointer("/error/error_subcode").and_then(Value::as_i64),
            retry_after,
        }
    }
}

/// A media download from the Graph API, read as the body arrives.
pub struct GraphDownload(reqwest::Response);

impl MediaDownload for GraphDownload {
    async fn chunk(&mut self) -> Result<Option<Vec<u8>>, BoxError> {
        Ok(self.0.chunk().await?.map(|b| b.to_vec()))
    }
}

impl MediaSource for GraphClient {
    type Download = GraphDownload;

    /// Looks a customer's media up. Media ids expire after about 7 days.
    async fn media_info(&self, media_id: &str) -> Result<MediaInfo, GraphError> {
        let url = format!("{}/{}/{}", self.base_url, self.version, media_id);
        let response = self
            .http
            .get(url)
            .bearer_auth(self.access_token.expose_secret())
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let json: Value = response.json().await.unwrap_or(Value::Null);
        let text = |k: &str| json.get(k).and_then(Value::as_str).map(str::to_owned);
        match (status, text("url")) {
            (200..=299, Some(url)) => Ok(MediaInfo {
                url,
                mime_type: text("mime_type"),
                sha256: text("sha256"),
                // Meta sends file_size as a number or as a string.
                file_size: match json.get("file_size") {
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(Value::String(s)) => s.trim().parse().ok(),
                    _ => None,
                },
            }),
            _ => Err(GraphClient::error_of(status, &json, None)),
        }
    }

    /// Starts downloading a media URL (valid about 5 minutes; needs the token).
    /// The caller reads the body in chunks, so a large file never sits whole in memory.
    async fn download(&self, url: &str) -> Result<GraphDownload, GraphError> {
        let response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(50))
            .bearer_auth(self.access_token.expose_secret())
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            Ok(GraphDownload(response))
        } else {
            let json: Value = response.json().await.unwrap_or(Value::Null);
            Err(GraphClient::error_of(status, &json, None))
        }
    }
}

/// Templates asked for per page, and the most pages read (Meta allows a
/// Business Account at most 6,000 templates): a paging loop ends.
const TEMPLATES_PER_PAGE: usize = 100;
const MAX_TEMPLATE_PAGES: usize = 60;

/// The Business Account's approved templates over HTTP
/// (`GET /{version}/{waba-id}/message_templates`), every page.
pub struct GraphTemplates {
    client: GraphClient,
    waba_id: String,
}

impl GraphTemplates {
    /// The templates of Business Account `waba_id`, through `client`.
    pub fn new(client: GraphClient, waba_id: &str) -> Self {
        GraphTemplates {
            client,
            waba_id: waba_id.trim().to_owned(),
        }
    }

    /// The source a function's environment names: the Graph API as
    /// [`GraphClient::from_env`] and `WHATSAPP_WABA_ID`, the WhatsApp Business
    /// Account id; `None` when that is not set.
    pub fn from_env(env: &crate::config::Env, access_token: SecretString) -> Result<Option<Self>, reqwest::Error> {
        match env.get("WHATSAPP_WABA_ID") {
            Some(waba_id) => Ok(Some(GraphTemplates::new(
                GraphClient::from_env(env, access_token)?,
                waba_id,
            ))),
            None => Ok(None),
        }
    }

    /// The next page's URL when the answer has one (`paging.next`). It is
    /// followed only on the Graph API's own origin, so the token goes nowhere
    /// else; otherwise the list goes on from `paging.cursors.after`.
    fn next_page(first: &reqwest::Url, answer: &Value) -> Option<reqwest::Url> {
        let next = answer.pointer("/paging/next").and_then(Value::as_str)?;
        match reqwest::Url::parse(next) {
            Ok(url) if url.origin() == first.origin() => Some(url),
            _ => {
                let after = answer.pointer("/paging/cursors/after").and_then(Value::as_str)?;
                let mut url = first.clone();
                url.query_pairs_mut().append_pair("after", after);
                Some(url)
            }
        }
    }
}

impl TemplateSource for GraphTemplates {
    /// Reads every page; keeps the approved templates a reply can fill (see
    /// [`MessageTemplate::from_graph`]). Any page failing fails the whole list.
    async fn approved_templates(&self) -> Result<Vec<MessageTemplate>, GraphError> {
        let client = &self.client;
        let first = reqwest::Url::parse_with_params(
            &format!(
                "{}/{}/{}/message_templates",
                client.base_url, client.version, self.waba_id
            ),
            [
                ("status", "APPROVED"),
                ("limit", &TEMPLATES_PER_PAGE.to_string()),
                ("fields", "name,language,status,category,parameter_format,components"),
            ],
        )
        .map_err(|_| GraphClient::error_of(0, &Value::Null, None))?;
        let mut url = first.clone();
        let mut approved = Vec::new();
        for _ in 0..MAX_TEMPLATE_PAGES {
            let response = client
                .http
                .get(url)
                .bearer_auth(client.access_token.expose_secret())
                .send()
                .await
                .map_err(unreachable)?;
            let status = response.status().as_u16();
            let json: Value = response.json().await.unwrap_or(Value::Null);
            let data = match json.get("data").and_then(Value::as_array) {
                Some(data) if (200..300).contains(&status) => data,
                _ => return Err(GraphClient::error_of(status, &json, None)),
            };
            for item in data {
                match MessageTemplate::from_graph(item) {
                    Ok(template) if template.is_approved() => approved.push(template),
                    Ok(_) => {}
                    Err(why) => {
                        let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
                        tracing::debug!(template = name, %why, "template not offered");
                    }
                }
            }
            match GraphTemplates::next_page(&first, &json) {
                Some(next) => url = next,
                None => return Ok(approved),
            }
        }
        // More pages than a Business Account can hold: a list that never ends.
        Err(GraphClient::error_of(200, &Value::Null, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A Graph API answering each `GET` with the next of the pages `pages`
    /// makes from its base URL (status and body); answers the request lines
    /// it saw, each with whether it carried the bearer token.
    async fn graph(pages: impl FnOnce(&str) -> Vec<(u16, Value)>) -> (String, tokio::task::JoinHandle<Vec<String>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let pages = pages(&base);
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            for (status, body) in pages {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    head.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let authorized = head.to_lowercase().contains("authorization: bearer token");
                seen.push(format!("{} {authorized}", head.lines().next().unwrap_or_default()));
                let body = body.to_string();
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(answer.as_bytes()).await.unwrap();
                socket.shutdown().await.ok();
            }
            seen
        });
        (base, task)
    }

    fn listed(name: &str, language: &str, status: &str) -> Value {
        json!({"name": name, "language": language, "status": status, "category": "UTILITY",
            "parameter_format": "POSITIONAL", "components": [{"type": "BODY", "text": "Order {{1}}"}], "id": "1"})
    }

    fn source(base: &str) -> GraphTemplates {
        GraphTemplates::new(
            GraphClient::new(base, "v25.0", SecretString::from("token")).unwrap(),
            "200000000000001",
        )
    }

    #[tokio::test]
    async fn every_page_is_read_through_paging_next_and_only_approved_templates_are_kept() {
        let (base, seen) = graph(|base| {
            let next = format!("{base}/v25.0/200000000000001/message_templates?after=QQ&limit=100");
            vec![
                (
                    200,
                    json!({"data": [listed("order_update", "en", "APPROVED"), listed("promo", "en", "PAUSED")],
                        "paging": {"cursors": {"before": "QA", "after": "QQ"}, "next": next}}),
                ),
                (
                    200,
                    json!({"data": [listed("order_update", "fr", "APPROVED"),
                        {"name": "login_code", "language": "en", "status": "APPROVED", "category": "AUTHENTICATION",
                         "components": [{"type": "BODY", "text": "{{1}} is your code"}]}],
                        "paging": {"cursors": {"before": "QR", "after": "QS"}}}),
                ),
            ]
        })
        .await;

        let templates = source(&base).approved_templates().await.unwrap();

        let names: Vec<(String, String)> = templates.iter().map(|t| (t.name.clone(), t.language.clone())).collect();
        assert_eq!(
            names,
            [
                ("order_update".into(), "en".into()),
                ("order_update".into(), "fr".into())
            ]
        );
        let seen = seen.await.unwrap();
        assert_eq!(seen.len(), 2);
        assert!(
            seen[0].starts_with("GET /v25.0/200000000000001/message_templates?status=APPROVED&limit=100&fields="),
            "{seen:?}"
        );
        assert!(
            seen.iter().all(|s| s.ends_with(" true")),
            "the token on every page: {seen:?}"
        );
        assert!(
            seen[1].starts_with("GET /v25.0/200000000000001/message_templates?after=QQ&limit=100 "),
            "paging.next as given: {seen:?}"
        );
    }

    #[tokio::test]
    async fn templates_on_a_next_page_on_another_host_are_read_from_the_cursor_on_the_graph_apis_own() {
        let (base, seen) = graph(|_| {
            vec![
                (
                    200,
                    json!({"data": [listed("a", "en", "APPROVED")],
                    "paging": {"cursors": {"after": "Q1"}, "next": "https://elsewhere.example/page2"}}),
                ),
                (200, json!({"data": [listed("b", "en", "APPROVED")]})),
            ]
        })
        .await;

        let templates = source(&base).approved_templates().await.unwrap();

        assert_eq!(templates.len(), 2);
        let seen = seen.await.unwrap();
        assert!(
            seen[1].starts_with("GET /v25.0/200000000000001/message_templates?"),
            "{seen:?}"
        );
        assert!(seen[1].contains("after=Q1"), "{seen:?}");
    }

    #[tokio::test]
    async fn a_refused_or_unreachable_templates_list_is_an_error_decided_by_code() {
        let (base, seen) = graph(|_| {
            vec![(
                401,
                json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}),
            )]
        })
        .await;

        let refused = source(&base).approved_templates().await.unwrap_err();
        seen.await.unwrap();
        let unreachable = source("http://127.0.0.1:9").approved_templates().await.unwrap_err();

        assert_eq!((refused.http_status, refused.code), (401, 190));
        assert!(!refused.is_transient());
        assert!(unreachable.is_transient());
    }
}
