//! The HTTP side of the runner: serves every `http` route of the stack on
//! 127.0.0.1 the way API Gateway HTTP API (payload 2.0) would, plus the local
//! token issuer and its agents, the local Slack and Teams webhooks, the local
//! clock and a health check.

use crate::agents::LocalAgent;
use crate::auth::{TOKEN_TTL, TokenIssuer, api_gateway_claims};
use crate::clock::ClockControl;
use crate::hooks::{self, Notifications};
use crate::registry::HttpFn;
use aws_lambda_events::apigw::{
    ApiGatewayRequestAuthorizer, ApiGatewayRequestAuthorizerJwtDescription, ApiGatewayV2httpRequestContext,
    ApiGatewayV2httpRequestContextHttpDescription,
};
use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::get;
use helpdesk::ports::Clock;
use http::{HeaderValue, Method, StatusCode, header};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// API Gateway's own payload limit; handlers enforce their smaller ones.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// One route of the stack, in API Gateway path syntax.
#[derive(Clone)]
pub struct Route {
    /// The function's logical id.
    pub function: String,
    /// The function's binary.
    pub binary: String,
    /// `GET`, `POST`... or `ANY`.
    pub method: String,
    /// `/api/{proxy+}`.
    pub path: String,
    /// Whether the JWT authorizer guards it.
    pub authorized: bool,
    /// The function's handler, `None` when there is no local one.
    pub handler: Option<HttpFn>,
    segments: Vec<Segment>,
}

#[derive(Clone, Debug, PartialEq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Route {
    /// A route for `method` and `path` (API Gateway syntax).
    pub fn new(
        function: &str,
        binary: &str,
        method: &str,
        path: &str,
        authorized: bool,
        handler: Option<HttpFn>,
    ) -> Route {
        let segments = path
            .trim_start_matches('/')
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_owned()),
                        None => Segment::Param(name.to_owned()),
                    },
                    None => Segment::Literal(segment.to_owned()),
                },
            )
            .collect();
        Route {
            function: function.to_owned(),
            binary: binary.to_owned(),
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            authorized,
            handler,
            segments,
        }
    }

    /// `ANY /api/{proxy+}`, as API Gateway names the route.
    pub fn route_key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The path parameters when `path` matches, ignoring the method.
    fn match_path(&self, path: &str) -> Option<HashMap<String, String>> {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut params = HashMap::new();
        for (index, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(literal) => {
                    if parts.get(index) != Some(&literal.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let part = parts.get(index).filter(|p| !p.is_empty())?;
                    params.insert(name.clone(), percent_decode(part));
                }
                Segment::Greedy(name) => {
                    let rest = parts.get(index..).map(|rest| rest.join("/")).unwrap_or_default();
                    if rest.is_empty() {
                        return None;
                    }
                    params.insert(name.clone(), percent_decode(&rest));
                    return Some(params);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    fn matches_method(&self, method: &Method) -> bool {
        self.method == "ANY" || self.method == method.as_str()
    }

    /// Most specific first, as API Gateway picks: no greedy segment, more
    /// literal segments, more segments, then a named method over `ANY`.
    fn specificity(&self) -> (bool, usize, usize, bool) {
        let greedy = self.segments.iter().any(|s| matches!(s, Segment::Greedy(_)));
        let literals = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count();
        (!greedy, literals, self.segments.len(), self.method != "ANY")
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What the health check lists about a function.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FunctionStatus {
    /// Logical id.
    pub name: String,
    /// Cargo binary.
    pub binary: String,
    /// Whether a local handler runs it.
    pub handler: bool,
}

/// Everything the HTTP server needs.
pub struct HttpState {
    /// The stack's routes.
    pub routes: Vec<Route>,
    /// The local JWT issuer.
    pub issuer: TokenIssuer,
    /// The people to sign in as (`config/local-agents.toml`).
    pub agents: Vec<LocalAgent>,
    /// The functions, for the health check.
    pub functions: Vec<FunctionStatus>,
    /// The stack's account id, for the request context.
    pub account_id: String,
    /// What the local Slack and Teams webhooks received.
    pub notifications: Notifications,
    /// The stack's clock: requests are timed by it, and it can be moved.
    pub clock: ClockControl,
}

/// The axum app: local endpoints first, then every stack route.
pub fn app(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/_local/token", get(token))
        .route("/_local/agents", get(agents))
        .route("/_local/health", get(health))
        .merge(hooks::routes(state.notifications.clone()))
        .merge(crate::clock::routes(state.clock.clone()))
        .fallback(dispatch)
        .with_state(state)
}

fn json(status: StatusCode, value: serde_json::Value) -> AxumResponse {
    (status, [(header::CONTENT_TYPE, "application/json")], value.to_string()).into_response()
}

fn message(status: StatusCode, text: &str) -> AxumResponse {
    json(status, serde_json::json!({ "message": text }))
}

#[derive(Deserialize)]
struct TokenQuery {
    agent: Option<String>,
    teams: Option<String>,
    format: Option<String>,
}

/// `GET /_local/token?agent=<name>&teams=<a,b>[&format=raw]`.
async fn token(State(state): State<Arc<HttpState>>, Query(query): Query<TokenQuery>) -> AxumResponse {
    let Some(agent) = query.agent.filter(|a| !a.trim().is_empty()) else {
        return message(
            StatusCode::BAD_REQUEST,
            "agent is required, e.g. /_local/token?agent=ana&teams=support",
        );
    };
    let teams: Vec<String> = query
        .teams
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let token = match state.issuer.issue(&agent, &teams, TOKEN_TTL) {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(error = %error, "local token could not be issued");
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };
    if query.format.as_deref() == Some("raw") {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], token).into_response();
    }
    json(
        StatusCode::OK,
        serde_json::json!({"token": token, "agent": agent, "teams": teams, "expires_in": TOKEN_TTL.as_secs()}),
    )
}

/// `GET /_local/agents`: `{"agents": [{"name", "teams", "role"}]}`.
async fn agents(State(state): State<Arc<HttpState>>) -> AxumResponse {
    json(StatusCode::OK, serde_json::json!({ "agents": state.agents }))
}

/// `GET /_local/health`.
async fn health(State(state): State<Arc<HttpState>>) -> AxumResponse {
    json(
        StatusCode::OK,
        serde_json::json!({"status": "ok", "functions": state.functions}),
    )
}

/// Every other request: find the route, check the authorizer, call the handler.
async fn dispatch(
    State(state): State<Arc<HttpState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> AxumResponse {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let Some((route, path_params)) = find_route(&state.routes, &parts.method, &path) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => return message(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large"),
    };
    let claims = if route.authorized {
        let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        match state.issuer.verify_header(authorization) {
            Some(claims) => Some(api_gateway_claims(&claims)),
            None => {
                tracing::info!(function = %route.function, trigger = %route.route_key(), status = 401u16, "refused by the local JWT authorizer");
                return message(StatusCode::UNAUTHORIZED, "Unauthorized");
            }
        }
    } else {
        None
    };
    let Some(handler) = route.handler.clone() else {
        tracing::warn!(function = %route.function, binary = %route.binary, trigger = %route.route_key(), status = 501u16, "no local handler");
        return json(
            StatusCode::NOT_IMPLEMENTED,
            serde_json::json!({"message": "no local handler", "function": route.function, "binary": route.binary}),
        );
    };

    let lambda_request = to_lambda_request(parts, body, route, path_params, claims, peer, &state);
    let started = Instant::now();
    // A panicking handler must not take the runner down; Lambda would answer 500 too.
    let outcome = tokio::spawn(handler(lambda_request)).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let response = match outcome {
        Ok(Ok(response)) => from_lambda_response(response),
        Ok(Err(error)) => {
            tracing::error!(function = %route.function, error = %error, "handler failed");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
        Err(error) => {
            tracing::error!(function = %route.function, error = %error, "handler panicked");
            message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    };
    tracing::info!(
        function = %route.function,
        trigger = %route.route_key(),
        status = response.status().as_u16(),
        duration_ms,
        "invoked"
    );
    response
}

/// The most specific route for `method` and `path`, with its path parameters.
/// As API Gateway does, a path with a trailing slash that no route takes is
/// matched without it (`/console/` by `GET /console`); the handler still sees
/// the path as sent.
fn find_route<'a>(routes: &'a [Route], method: &Method, path: &str) -> Option<(&'a Route, HashMap<String, String>)> {
    let best = |path: &str| {
        routes
            .iter()
            .filter(|route| route.matches_method(method))
            .filter_map(|route| route.match_path(path).map(|params| (route, params)))
            .max_by_key(|(route, _)| route.specificity())
    };
    best(path).or_else(|| {
        path.strip_suffix('/')
            .filter(|shorter| !shorter.is_empty())
            .and_then(best)
    })
}

/// The request as API Gateway HTTP API hands it to Lambda, through
/// `lambda_http`'s extensions. The body bytes are passed unchanged.
fn to_lambda_request(
    parts: http::request::Parts,
    body: bytes::Bytes,
    route: &Route,
    path_params: HashMap<String, String>,
    claims: Option<HashMap<String, String>>,
    peer: SocketAddr,
    state: &HttpState,
) -> lambda_http::Request {
    let raw_path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        query.entry(name.into_owned()).or_default().push(value.into_owned());
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let uri = if raw_query.is_empty() {
        format!("http://{host}{raw_path}")
    } else {
        format!("http://{host}{raw_path}?{raw_query}")
    };

    let mut http_description = ApiGatewayV2httpRequestContextHttpDescription::default();
    http_description.method = parts.method.clone();
    http_description.path = Some(raw_path.clone());
    http_description.protocol = Some(format!("{:?}", parts.version));
    http_description.source_ip = Some(peer.ip().to_string());
    http_description.user_agent = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    // The stack's clock, which the local clock control may have moved.
    let now = state.clock.clock().now();
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(route.route_key());
    context.account_id = Some(state.account_id.clone());
    context.stage = Some("$default".to_owned());
    context.request_id = Some(crate::random_id());
    context.apiid = Some("local".to_owned());
    context.domain_name = Some(host.clone());
    context.domain_prefix = host.split('.').next().map(str::to_owned);
    context.time = Some(now.strftime("%d/%b/%Y:%H:%M:%S %z").to_string());
    context.time_epoch = now.as_millisecond();
    context.http = http_description;
    if let Some(claims) = claims {
        let mut jwt = ApiGatewayRequestAuthorizerJwtDescription::default();
        jwt.claims = claims;
        jwt.scopes = None;
        let mut authorizer = ApiGatewayRequestAuthorizer::default();
        authorizer.jwt = Some(jwt);
        context.authorizer = Some(authorizer);
    }

    let body = if body.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(body.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(bytes) => Body::Binary(bytes.into_bytes()),
        }
    };
    let mut request = http::Request::builder()
        .method(parts.method)
        .uri(uri)
        .body(body)
        .expect("a request rebuilt from a valid one is valid");
    *request.headers_mut() = parts.headers;
    let headers = request.headers_mut();
    if let Ok(ip) = HeaderValue::from_str(&peer.ip().to_string()) {
        headers.entry("x-forwarded-for").or_insert(ip);
    }
    headers
        .entry("x-forwarded-proto")
        .or_insert(HeaderValue::from_static("http"));
    if let Ok(port) = HeaderValue::from_str(&peer.port().to_string()) {
        headers.entry("x-forwarded-port").or_insert(port);
    }

    let mut lambda_context = lambda_runtime::Context::default();
    lambda_context.request_id = crate::random_id();
    request
        .with_raw_http_path(raw_path)
        .with_query_string_parameters(QueryMap::from(query))
        .with_path_parameters(QueryMap::from(path_params))
        .with_request_context(RequestContext::ApiGatewayV2(context))
        .with_lambda_context(lambda_context)
}

/// The handler's response as API Gateway returns it: status, headers, body.
fn from_lambda_response(response: lambda_http::Response<Body>) -> AxumResponse {
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Empty => AxumBody::empty(),
        Body::Text(text) => AxumBody::from(text),
        Body::Binary(bytes) => AxumBody::from(bytes),
        _ => AxumBody::empty(),
    };
    AxumResponse::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> Route {
        Route::new("F", "f", method, path, false, None)
    }

    #[test]
    fn a_greedy_route_takes_every_remaining_segment_but_not_none() {
        let api = route("ANY", "/api/{proxy+}");

        assert_eq!(
            api.match_path("/api/tickets/T1/reply").unwrap()["proxy"],
            "tickets/T1/reply"
        );
        assert_eq!(api.match_path("/api/a%20b").unwrap()["proxy"], "a b");
        assert!(api.match_path("/api").is_none());
        assert!(api.match_path("/api/").is_none());
        assert!(api.match_path("/webhook").is_none());
    }

    #[test]
    fn a_named_parameter_takes_exactly_one_segment() {
        let one = route("GET", "/tickets/{id}");

        assert_eq!(one.match_path("/tickets/T1").unwrap()["id"], "T1");
        assert!(one.match_path("/tickets/T1/notes").is_none());
        assert!(one.match_path("/tickets/").is_none());
        assert!(route("GET", "/webhook").match_path("/webhook/extra").is_none());
    }

    #[test]
    fn a_trailing_slash_no_route_takes_is_matched_without_it() {
        let routes = [
            route("GET", "/console"),
            route("GET", "/console/{proxy+}"),
            route("ANY", "/api/{proxy+}"),
        ];

        let base = find_route(&routes, &Method::GET, "/console/").unwrap();
        let page = find_route(&routes, &Method::GET, "/console/tickets/TK-1").unwrap();
        let nested = find_route(&routes, &Method::GET, "/console/admin/").unwrap();

        assert_eq!(base.0.path, "/console");
        assert_eq!(page.0.path, "/console/{proxy+}");
        assert_eq!(page.1["proxy"], "tickets/TK-1");
        assert_eq!(nested.0.path, "/console/{proxy+}");
        assert_eq!(nested.1["proxy"], "admin/");
        assert!(find_route(&routes, &Method::POST, "/console/").is_none());
        assert!(find_route(&routes, &Method::GET, "/api/").is_none());
        assert!(find_route(&routes, &Method::GET, "/").is_none());
    }

    #[test]
    fn the_most_specific_route_ranks_first() {
        let exact = route("GET", "/api/health");
        let greedy_get = route("GET", "/api/{proxy+}");
        let greedy_any = route("ANY", "/api/{proxy+}");

        assert!(exact.specificity() > greedy_get.specificity());
        assert!(greedy_get.specificity() > greedy_any.specificity());
    }
}
