//! The console locally: served by the runner through the console function's
//! real handler, with the local sign-in (`/_local/agents`, `/_local/token`)
//! the console's sign-in page uses, over a real stack on moto.

mod common;

use common::{http_client, local_stack};
use devstack::{Runner, RunnerOptions};
use serde_json::{Value, json};

fn options() -> RunnerOptions {
    RunnerOptions {
        poll_wait_seconds: 1,
        ..Default::default()
    }
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_console_is_served_with_the_local_sign_in_and_moto_as_its_media_origin() {
    // Arrange
    let local = local_stack("console", &[]).await;
    let runner = Runner::start(&local.stack.only_functions(&["ConsoleFunction"]), options())
        .await
        .unwrap();
    let client = no_redirects();

    // Act
    let base = client.get(format!("{}/console", runner.http_url)).send().await.unwrap();
    let config = client
        .get(format!("{}/console/config.json", runner.http_url))
        .send()
        .await
        .unwrap();
    let page = client
        .get(format!("{}/console/", runner.http_url))
        .send()
        .await
        .unwrap();
    let route = client
        .get(format!("{}/console/tickets/TK-3F9A0C51D2E7", runner.http_url))
        .send()
        .await
        .unwrap();

    // Assert
    assert_eq!(base.status(), 301);
    assert_eq!(base.headers()["location"], "/console/");
    assert_eq!(config.status(), 200);
    let policy = config.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(
        policy,
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data: {moto}; \
             media-src 'self' blob: {moto}; connect-src 'self' {moto}; font-src 'self'; manifest-src 'self'; \
             base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
            moto = local.moto.endpoint
        )
    );
    // Served over plain HTTP here: no HSTS.
    assert!(config.headers().get("strict-transport-security").is_none());
    assert_eq!(config.json::<Value>().await.unwrap(), json!({"auth": "local"}));
    // The page is the console's when it was built (`make console`), and says it was not otherwise.
    for response in [page, route] {
        assert!(matches!(response.status().as_u16(), 200 | 503), "{response:?}");
        assert!(response.headers().contains_key("content-security-policy"));
        let body = response.text().await.unwrap();
        assert!(
            body.contains("<") || body.starts_with("the console was not built"),
            "{body}"
        );
    }
    runner.shutdown().await;
}

#[tokio::test]
async fn each_local_agent_signs_in_with_the_role_the_console_lists() {
    // Arrange
    let local = local_stack("console-agents", &[]).await;
    let runner = Runner::start(&local.stack.only_functions(&["AgentApiFunction"]), options())
        .await
        .unwrap();
    let client = http_client();

    // Act
    let listed: Value = client
        .get(format!("{}/_local/agents", runner.http_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut seen = Vec::new();
    for agent in listed["agents"].as_array().unwrap() {
        let teams: Vec<&str> = agent["teams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let token = client
            .get(format!(
                "{}/_local/token?agent={}&teams={}&format=raw",
                runner.http_url,
                agent["name"].as_str().unwrap(),
                teams.join(",")
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let me: Value = client
            .get(format!("{}/api/me", runner.http_url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.push((agent.clone(), me));
    }

    // Assert
    let names: Vec<&str> = seen.iter().map(|(agent, _)| agent["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ana", "ben", "lea", "max", "eva"]);
    assert_eq!(
        seen[2].0,
        json!({"name": "lea", "teams": ["support", "leads"], "role": "lead"})
    );
    for (agent, me) in &seen {
        assert_eq!(me["agent"], agent["name"], "{me}");
        assert_eq!(me["role"], agent["role"], "{me}");
    }
    // The agent API's teams are the groups less the role groups.
    assert_eq!(seen[3].1["teams"], json!(["support"]));
    assert_eq!(seen[4].1["teams"], json!(["billing-experts"]));
    runner.shutdown().await;
}
