//! The console function's handler on requests as API Gateway (HTTP API,
//! payload 2.0) hands them over: each is the `sam local invoke` sample event
//! (`events/console-ticket-page.json`) with another path or headers, answered
//! from a build held in memory.

use console::{Console, ConsoleSettings, MemoryFiles, NOT_BUILT, SignIn};
use lambda_http::http::header;
use lambda_http::{Body, Request, Response};
use serde_json::Value;

const INDEX_HTML: &str = r#"<!doctype html><html><head><script type="module" src="/console/assets/index-3f9a1c.js"></script></head><body><div id="app"></div></body></html>"#;
const SCRIPT: &str = "console.log('console');";
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00];
const SAMPLE: &str = include_str!("../../../events/console-ticket-page.json");

fn built() -> MemoryFiles {
    MemoryFiles::new()
        .with("index.html", INDEX_HTML)
        .with("assets/index-3f9a1c.js", SCRIPT)
        .with("assets/logo-77aa01.png", PNG)
        .with("favicon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
}

fn cognito() -> ConsoleSettings {
    ConsoleSettings {
        sign_in: SignIn::Cognito {
            domain: "https://helpdesk-8d7a.auth.us-east-1.amazoncognito.com".into(),
            client_id: "4example5client6id".into(),
        },
        media_origin: Some("https://helpdesk-mediabucket-1x2y.s3.us-east-1.amazonaws.com".into()),
    }
}

/// The page is the build's `index.html` with a nonce for style elements, in
/// a meta tag and in the answer's policy (and nowhere for scripts); answers
/// the nonce.
fn assert_page(response: &Response<Body>) -> String {
    let page = text(response);
    let (before, rest) = page
        .split_once(r#"<meta name="csp-nonce" content=""#)
        .expect("a nonce meta tag");
    let (nonce, after) = rest.split_once('"').unwrap();
    assert_eq!(nonce.len(), 32, "{nonce}");
    assert!(after.contains("</head>") && INDEX_HTML.starts_with(before), "{page}");
    let policy = header(response, "content-security-policy");
    assert!(
        policy.contains(&format!("style-src 'self' 'nonce-{nonce}';")),
        "{policy}"
    );
    assert!(policy.contains("script-src 'self';"), "{policy}");
    nonce.to_owned()
}

/// The sample event for `raw_path` (with its query), with extra headers.
fn request(raw_path: &str, headers: &[(&str, &str)]) -> Request {
    let mut event: Value = serde_json::from_str(SAMPLE).unwrap();
    let (path, query) = raw_path.split_once('?').unwrap_or((raw_path, ""));
    event["rawPath"] = path.into();
    event["rawQueryString"] = query.into();
    event["requestContext"]["http"]["path"] = path.into();
    match path.strip_prefix("/console/") {
        Some(proxy) if !proxy.is_empty() => event["pathParameters"]["proxy"] = proxy.into(),
        _ => {
            event["routeKey"] = "GET /console".into();
            event["requestContext"]["routeKey"] = "GET /console".into();
            event.as_object_mut().unwrap().remove("pathParameters");
        }
    }
    for (name, value) in headers {
        event["headers"][*name] = (*value).into();
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

async fn get(console: &Console<MemoryFiles>, raw_path: &str) -> Response<Body> {
    console.handle(request(raw_path, &[])).await.unwrap()
}

fn header<'a>(response: &'a Response<Body>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_else(|| panic!("no {name} header"))
}

fn text(response: &Response<Body>) -> String {
    String::from_utf8(response.body().to_vec()).unwrap()
}

#[tokio::test]
async fn the_sample_event_a_client_side_route_gets_the_console_s_page() {
    // Arrange
    let console = Console::new(built(), &cognito());

    // Act
    let response = console
        .handle(lambda_http::request::from_str(SAMPLE).unwrap())
        .await
        .unwrap();

    // Assert
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    assert_page(&response);
}

#[tokio::test]
async fn the_console_without_its_slash_is_moved_to_its_base_keeping_the_query() {
    let console = Console::new(built(), &cognito());

    let plain = get(&console, "/console").await;
    let with_query = get(&console, "/console?code=abc&state=xyz").await;
    let base = get(&console, "/console/").await;

    assert_eq!(plain.status(), 301);
    assert_eq!(header(&plain, "location"), "/console/");
    assert_eq!(header(&with_query, "location"), "/console/?code=abc&state=xyz");
    assert_eq!(base.status(), 200);
    assert_page(&base);
}

#[tokio::test]
async fn a_hashed_asset_is_served_with_its_type_an_etag_and_a_year_of_caching() {
    let console = Console::new(built(), &cognito());

    let script = get(&console, "/console/assets/index-3f9a1c.js").await;
    let image = get(&console, "/console/assets/logo-77aa01.png").await;

    assert_eq!(script.status(), 200);
    assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&script, "cache-control"), "public, max-age=31536000, immutable");
    assert!(header(&script, "etag").starts_with('"'));
    assert_eq!(text(&script), SCRIPT);
    assert_eq!(header(&image, "content-type"), "image/png");
    assert!(matches!(image.body(), Body::Binary(bytes) if bytes == PNG));
}

#[tokio::test]
async fn a_file_outside_assets_is_revalidated_before_each_use() {
    let console = Console::new(built(), &cognito());

    let icon = get(&console, "/console/favicon.svg").await;

    assert_eq!(icon.status(), 200);
    assert_eq!(header(&icon, "content-type"), "image/svg+xml; charset=utf-8");
    assert_eq!(header(&icon, "cache-control"), "no-cache");
}

#[tokio::test]
async fn a_browser_holding_the_current_copy_gets_not_modified() {
    let console = Console::new(built(), &cognito());
    let first = get(&console, "/console/assets/index-3f9a1c.js").await;
    let etag = header(&first, "etag").to_owned();

    let again = console
        .handle(request("/console/assets/index-3f9a1c.js", &[("if-none-match", &etag)]))
        .await
        .unwrap();
    let stale = console
        .handle(request(
            "/console/assets/index-3f9a1c.js",
            &[("if-none-match", "\"0000\"")],
        ))
        .await
        .unwrap();

    assert_eq!(again.status(), 304);
    assert!(again.body().is_empty());
    assert_eq!(header(&again, "etag"), etag);
    assert_eq!(stale.status(), 200);
}

#[tokio::test]
async fn a_missing_file_with_an_extension_is_not_found_and_one_without_is_a_client_route() {
    let console = Console::new(built(), &cognito());

    let missing_script = get(&console, "/console/assets/index-00000.js").await;
    let dashboard = get(&console, "/console/dashboard").await;
    let admin = get(&console, "/console/admin/").await;

    assert_eq!(missing_script.status(), 404);
    assert_eq!(dashboard.status(), 200);
    assert_page(&dashboard);
    assert_eq!(admin.status(), 200);
}

#[tokio::test]
async fn a_path_that_tries_to_leave_the_build_folder_is_not_found() {
    let console = Console::new(built(), &cognito());

    let response = get(&console, "/console/assets/../../template.yaml").await;

    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_configuration_tells_the_console_how_agents_sign_in() {
    let cognito = Console::new(built(), &cognito());
    let local = Console::new(
        built(),
        &ConsoleSettings {
            sign_in: SignIn::Local,
            media_origin: Some("http://127.0.0.1:5000".into()),
        },
    );

    let on_aws = get(&cognito, "/console/config.json").await;
    let on_this_machine = get(&local, "/console/config.json").await;

    assert_eq!(on_aws.status(), 200);
    assert_eq!(header(&on_aws, "content-type"), "application/json");
    assert_eq!(header(&on_aws, "cache-control"), "no-cache");
    assert_eq!(
        serde_json::from_str::<Value>(&text(&on_aws)).unwrap(),
        serde_json::json!({"auth": "cognito", "cognito": {
            "domain": "https://helpdesk-8d7a.auth.us-east-1.amazoncognito.com",
            "client_id": "4example5client6id",
        }})
    );
    assert_eq!(text(&on_this_machine), r#"{"auth":"local"}"#);
}

#[tokio::test]
async fn a_console_that_was_not_built_says_so_and_still_answers_its_configuration() {
    let console = Console::new(MemoryFiles::new(), &cognito());

    let page = get(&console, "/console/").await;
    let route = get(&console, "/console/tickets/TK-1").await;
    let asset = get(&console, "/console/assets/index-3f9a1c.js").await;
    let config = get(&console, "/console/config.json").await;

    for response in [&page, &route, &asset] {
        assert_eq!(response.status(), 503);
        assert_eq!(text(response), NOT_BUILT);
        assert!(NOT_BUILT.starts_with("the console was not built"));
    }
    assert_eq!(config.status(), 200);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_hsts_only_over_https() {
    let console = Console::new(built(), &cognito());
    let over_http = [("x-forwarded-proto", "http")];

    let answers = [
        get(&console, "/console/").await,
        get(&console, "/console").await,
        get(&console, "/console/missing.js").await,
        get(&console, "/console/config.json").await,
    ];
    let local = console.handle(request("/console/", &over_http)).await.unwrap();

    for response in &answers {
        let policy = header(response, "content-security-policy");
        assert!(
            policy.starts_with("default-src 'none'; script-src 'self'; style-src 'self'"),
            "{policy}"
        );
        assert!(policy.contains("connect-src 'self' https://helpdesk-mediabucket-1x2y.s3.us-east-1.amazonaws.com https://helpdesk-8d7a.auth.us-east-1.amazoncognito.com;"), "{policy}");
        assert!(
            policy.ends_with("frame-ancestors 'none'; object-src 'none'"),
            "{policy}"
        );
        assert_eq!(
            header(response, "strict-transport-security"),
            "max-age=63072000; includeSubDomains"
        );
        assert_eq!(header(response, "x-content-type-options"), "nosniff");
        assert_eq!(header(response, "referrer-policy"), "no-referrer");
        assert_eq!(header(response, "x-frame-options"), "DENY");
    }
    assert!(local.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none());
    assert!(local.headers().get(header::CONTENT_SECURITY_POLICY).is_some());
}

#[tokio::test]
async fn other_methods_are_refused() {
    let console = Console::new(built(), &cognito());
    let mut event: Value = serde_json::from_str(SAMPLE).unwrap();
    event["requestContext"]["http"]["method"] = "POST".into();

    let response = console
        .handle(lambda_http::request::from_str(&event.to_string()).unwrap())
        .await
        .unwrap();

    assert_eq!(response.status(), 405);
    assert_eq!(header(&response, "allow"), "GET, HEAD");
}

#[tokio::test]
async fn every_page_answer_has_its_own_style_nonce_and_files_have_none() {
    let console = Console::new(built(), &cognito());

    let first = get(&console, "/console/").await;
    let second = get(&console, "/console/tickets/TK-3F9A0C51D2E7").await;
    let script = get(&console, "/console/assets/index-3f9a1c.js").await;

    assert_ne!(assert_page(&first), assert_page(&second));
    assert!(first.headers().get("etag").is_none());
    assert!(!header(&script, "content-security-policy").contains("nonce"));
}
