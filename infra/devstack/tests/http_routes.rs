//! The runner's HTTP side over a real stack on moto: the webhook's routes
//! through the real handler, unknown routes, the local JWT authorizer.

mod common;

use common::{http_client, local_stack, sqs_client};
use devstack::registry::Handler;
use devstack::{EventSource, FunctionDescription, Runner, RunnerOptions};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, Response};
use std::collections::HashMap;

fn options() -> RunnerOptions {
    RunnerOptions {
        poll_wait_seconds: 1,
        ..Default::default()
    }
}

const DELIVERY: &str = r#"{"object":"whatsapp_business_account","entry":[{"id":"200000000000001","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550000001","phone_number_id":"100000000000001"},"contacts":[{"profile":{"name":"Ana Souza"},"wa_id":"15551230001"}],"messages":[{"from":"15551230001","id":"wamid.devstack-test-1","timestamp":"1795237200","type":"text","text":{"body":"Hi, my order hasn't arrived 😟"}}]}}]}]}"#;

#[tokio::test]
async fn the_webhook_answers_meta_s_verification_challenge_through_the_real_handler() {
    // Arrange
    let local = local_stack("http-verify", &[]).await;
    let runner = Runner::start(&local.stack.only_functions(&["WebhookFunction"]), options())
        .await
        .unwrap();

    // Act
    let response = http_client()
        .get(format!(
            "{}/webhook?hub.mode=subscribe&hub.verify_token=local-verify-token&hub.challenge=42",
            runner.http_url
        ))
        .send()
        .await
        .unwrap();
    let refused = http_client()
        .get(format!(
            "{}/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42",
            runner.http_url
        ))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "42");
    assert_eq!(refused.status(), 403);
    runner.shutdown().await;
}

#[tokio::test]
async fn a_signed_delivery_is_accepted_and_lands_on_the_inbound_queue() {
    // Arrange: only the webhook runs, so no poller consumes the inbound queue.
    let local = local_stack("http-delivery", &[]).await;
    let runner = Runner::start(&local.stack.only_functions(&["WebhookFunction"]), options())
        .await
        .unwrap();
    let signature = helpdesk::domain::signature::sign(b"local-app-secret", DELIVERY.as_bytes());

    // Act
    let response = http_client()
        .post(format!("{}/webhook", runner.http_url))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(DELIVERY)
        .send()
        .await
        .unwrap();
    let forged = http_client()
        .post(format!("{}/webhook", runner.http_url))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", "sha256=00")
        .body(DELIVERY)
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(forged.status(), 401);
    let inbound = &local.stack.outputs["InboundQueueUrl"];
    let received = sqs_client(&local.stack)
        .await
        .receive_message()
        .queue_url(inbound)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    let bodies: Vec<&str> = received.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies.len(), 1, "one message queued");
    assert!(bodies[0].contains("wamid.devstack-test-1"));
    runner.shutdown().await;
}

#[tokio::test]
async fn an_unknown_route_answers_404_as_api_gateway_does() {
    // Arrange
    let local = local_stack("http-unknown", &[]).await;
    let runner = Runner::start(&local.stack.only_functions(&["WebhookFunction"]), options())
        .await
        .unwrap();

    // Act
    let unknown = http_client()
        .get(format!("{}/nowhere", runner.http_url))
        .send()
        .await
        .unwrap();
    let wrong_method = http_client()
        .delete(format!("{}/webhook", runner.http_url))
        .send()
        .await
        .unwrap();
    let health = http_client()
        .get(format!("{}/_local/health", runner.http_url))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.text().await.unwrap(), r#"{"message":"Not Found"}"#);
    assert_eq!(wrong_method.status(), 404);
    assert_eq!(health.status(), 200);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["functions"][0]["name"], "WebhookFunction");
    runner.shutdown().await;
}

/// A stack with the real webhook plus two authorized functions: one with no
/// local handler, one whose handler echoes what API Gateway would pass.
fn with_authorized_functions(local: &common::LocalStack) -> devstack::StackDescription {
    let mut stack = local.stack.only_functions(&["WebhookFunction"]);
    for (id, binary, path) in [
        ("UnbuiltFunction", "not-built-here", "/unbuilt/{proxy+}"),
        ("EchoFunction", "echo", "/echo/{id}"),
    ] {
        stack.functions.insert(
            id.to_owned(),
            FunctionDescription {
                binary: binary.to_owned(),
                function_name: id.to_owned(),
                environment: Default::default(),
                events: vec![EventSource::Http {
                    method: "ANY".to_owned(),
                    path: path.to_owned(),
                    authorizer: Some("default".to_owned()),
                }],
            },
        );
    }
    stack
}

fn echo_handler() -> Handler {
    Handler::http(|request: lambda_http::Request| async move {
        let RequestContext::ApiGatewayV2(context) = request.request_context() else {
            panic!("an HTTP API request context");
        };
        let claims = context
            .authorizer
            .and_then(|a| a.jwt)
            .map(|jwt| jwt.claims)
            .unwrap_or_default();
        let echo = serde_json::json!({
            "claims": claims,
            "route_key": context.route_key,
            "stage": context.stage,
            "method": context.http.method.as_str(),
            "path_id": request.path_parameters().first("id"),
            "query_status": request.query_string_parameters().first("status"),
            "body": String::from_utf8_lossy(request.body().as_ref()),
        });
        Ok::<_, std::convert::Infallible>(
            Response::builder()
                .status(201)
                .header("x-echo", "1")
                .body(Body::from(echo.to_string()))
                .unwrap(),
        )
    })
}

#[tokio::test]
async fn an_authorized_route_refuses_a_request_without_a_valid_token() {
    // Arrange
    let local = local_stack("http-auth", &[]).await;
    let stack = with_authorized_functions(&local);
    let runner = Runner::start_with_handlers(&stack, options(), HashMap::from([("echo".to_owned(), echo_handler())]))
        .await
        .unwrap();
    let client = http_client();

    // Act
    let missing = client.get(format!("{}/echo/T1", runner.http_url)).send().await.unwrap();
    let forged = client
        .get(format!("{}/echo/T1", runner.http_url))
        .bearer_auth("eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl")
        .send()
        .await
        .unwrap();
    let unbuilt = client
        .get(format!("{}/unbuilt/x", runner.http_url))
        .send()
        .await
        .unwrap();

    // Assert
    for response in [missing, forged, unbuilt] {
        assert_eq!(response.status(), 401);
        assert_eq!(response.text().await.unwrap(), r#"{"message":"Unauthorized"}"#);
    }
    runner.shutdown().await;
}

#[tokio::test]
async fn a_local_token_opens_an_authorized_route_with_claims_as_api_gateway_passes_them() {
    // Arrange
    let local = local_stack("http-token", &[]).await;
    let stack = with_authorized_functions(&local);
    let runner = Runner::start_with_handlers(&stack, options(), HashMap::from([("echo".to_owned(), echo_handler())]))
        .await
        .unwrap();
    let client = http_client();

    // Act
    let issued: serde_json::Value = client
        .get(format!(
            "{}/_local/token?agent=ana&teams=support,billing",
            runner.http_url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = issued["token"].as_str().unwrap();
    let echoed = client
        .post(format!("{}/echo/T%201?status=queued", runner.http_url))
        .bearer_auth(token)
        .body("raw body")
        .send()
        .await
        .unwrap();
    let unbuilt = client
        .get(format!("{}/unbuilt/x", runner.http_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(issued["agent"], "ana");
    assert_eq!(issued["teams"], serde_json::json!(["support", "billing"]));
    assert_eq!(issued["expires_in"], 43200);
    assert_eq!(echoed.status(), 201);
    assert_eq!(echoed.headers()["x-echo"], "1");
    let echo: serde_json::Value = echoed.json().await.unwrap();
    assert_eq!(echo["claims"]["cognito:username"], "ana");
    assert_eq!(echo["claims"]["cognito:groups"], "[support billing]");
    assert_eq!(echo["claims"]["token_use"], "id");
    assert!(echo["claims"]["exp"].is_string());
    assert_eq!(echo["route_key"], "ANY /echo/{id}");
    assert_eq!(echo["stage"], "$default");
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path_id"], "T 1");
    assert_eq!(echo["query_status"], "queued");
    assert_eq!(echo["body"], "raw body");
    assert_eq!(unbuilt.status(), 501);
    let unbuilt: serde_json::Value = unbuilt.json().await.unwrap();
    assert_eq!(unbuilt["message"], "no local handler");
    runner.shutdown().await;
}
