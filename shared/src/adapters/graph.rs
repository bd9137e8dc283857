//! The Cloud API's sending side over HTTP (`POST /{version}/{phone-number-id}/messages`).

use crate::domain::ids::CustomerId;
use crate::domain::outbound::OutboundBody;
use crate::ports::{GraphApi, GraphError};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::time::Duration;

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

impl GraphApi for GraphClient {
    async fn send_message(
        &self,
        phone_number_id: &str,
        to: &CustomerId,
        body: &OutboundBody,
    ) -> Result<String, GraphError> {
        let url = format!("{}/{}/{}/messages", self.base_url, self.version, phone_number_id);
        let network = |_| GraphError {
            http_status: 0,
            code: 0,
            subcode: None,
            retry_after: None,
        };
        let response = self
            .http
            .post(url)
            .bearer_auth(self.access_token.expose_secret())
            .json(&body.to_graph_json(to))
            .send()
            .await
            .map_err(network)?;
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
        Err(GraphError {
            http_status: status,
            code: json.pointer("/error/code").and_then(Value::as_i64).unwrap_or(0),
            subcode: json.pointer("/error/error_subcode").and_then(Value::as_i64),
            retry_after,
        })
    }
}
