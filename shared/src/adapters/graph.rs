//! The Cloud API's sending side over HTTP (`POST /{version}/{phone-number-id}/messages`).

use crate::domain::identity::Address;
use crate::domain::outbound::OutboundBody;
use crate::ports::{BoxError, GraphApi, GraphError, MediaDownload, MediaInfo, MediaSource};
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
