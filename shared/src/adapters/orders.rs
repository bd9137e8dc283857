//! Order sources behind the [`OrderLookup`] port: the business's HTTP endpoint
//! or a DynamoDB table.

use crate::domain::desk::OrderSource;
use crate::ports::{BoxError, OrderLookup};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use std::time::Duration;

/// Where order statuses come from.
pub enum OrderClient {
    /// No source: the bot hands order questions to an agent.
    None,
    /// `GET url` with `{order}` replaced: 200 `{"status": "..."}`, 404 unknown.
    Http { http: reqwest::Client, url: String },
    /// A table keyed by `order_id` (S) with a `status` (S) attribute.
    Dynamodb {
        client: aws_sdk_dynamodb::Client,
        table: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum OrderSourceError {
    #[error("the order source answered HTTP {0}")]
    Status(u16),
    #[error("the order source's answer has no status")]
    NoStatus,
}

impl OrderClient {
    /// The client for the desk configuration's source.
    pub fn from_source(source: &OrderSource, sdk: &aws_config::SdkConfig) -> Result<Self, reqwest::Error> {
        Ok(match source {
            OrderSource::None => OrderClient::None,
            OrderSource::Http { url, timeout_ms } => OrderClient::http(url, Duration::from_millis(*timeout_ms))?,
            OrderSource::Dynamodb { table } => OrderClient::Dynamodb {
                client: aws_sdk_dynamodb::Client::new(sdk),
                table: table.clone(),
            },
        })
    }

    pub fn http(url: &str, timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(OrderClient::Http {
            http,
            url: url.to_owned(),
        })
    }
}

impl OrderLookup for OrderClient {
    async fn status(&self, order: &str) -> Result<Option<String>, BoxError> {
        match self {
            OrderClient::None => Ok(None),
            OrderClient::Http { http, url } => {
                let encoded: String = url::form_urlencoded::byte_serialize(order.as_bytes()).collect();
                let response = http.get(url.replace("{order}", &encoded)).send().await?;
                match response.status().as_u16() {
                    404 => Ok(None),
                    200..=299 => {
                        let body: Value = response.json().await?;
                        let status = body
                            .get("status")
                            .and_then(Value::as_str)
                            .ok_or(OrderSourceError::NoStatus)?;
                        Ok(Some(status.to_owned()))
                    }
                    code => Err(Box::new(OrderSourceError::Status(code))),
                }
            }
            OrderClient::Dynamodb { client, table } => {
                let out = client
                    .get_item()
                    .table_name(table)
                    .key("order_id", AttributeValue::S(order.to_owned()))
                    .send()
                    .await?;
                match out.item {
                    None => Ok(None),
                    Some(item) => match item.get("status") {
                        Some(AttributeValue::S(status)) => Ok(Some(status.clone())),
                        _ => Err(Box::new(OrderSourceError::NoStatus)),
                    },
                }
            }
        }
    }
}
