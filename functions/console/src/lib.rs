//! The console function: serves the agents' browser console (`GET /console`
//! and `GET /console/{proxy+}`) from its build output, `console/dist`.
//!
//! - `/console` is sent to `/console/` (301).
//! - `/console/config.json` is the runtime configuration the console reads at
//!   start: how agents sign in (see [`settings::ConsoleSettings::config_json`]).
//! - A file of the build is served with its Content-Type and an ETag; hashed
//!   files under `assets/` are immutable, the rest is revalidated.
//! - A path with no file and no extension is a client-side route and gets
//!   `index.html`; a missing file with an extension is a 404.
//! - Without a build (`index.html` missing) the console answers 503.
//!
//! Every answer carries the same strict security headers, CSP included.

pub mod files;
pub mod paths;
pub mod settings;

pub use files::{ConsoleFile, ConsoleFiles, EmbeddedFiles, MemoryFiles};
pub use settings::{ConsoleSettings, SettingsError, SignIn};

use helpdesk::config::Env;
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use paths::{Caching, Target};
use std::convert::Infallible;

/// What a request for the console gets while `console/dist` was not built.
pub const NOT_BUILT: &str =
    "the console was not built: run `make console` (npm ci && npm run build in console/), then rebuild the function";

const INDEX: &str = "index.html";

/// The handler, generic over where the build output is read from.
pub struct Console<F> {
    files: F,
    settings: ConsoleSettings,
    config_json: String,
    content_security_policy: HeaderValue,
}

/// Where the page's CSP nonce goes: a `<meta name="csp-nonce">` the console
/// reads at start.
const NONCE_META: &str = "<meta name=\"csp-nonce\" content=\"";

impl Console<EmbeddedFiles> {
    /// The console embedded in this binary, configured from the function's
    /// environment (read once at init).
    pub fn from_env(env: &Env) -> Result<Console<EmbeddedFiles>, SettingsError> {
        Ok(Console::new(EmbeddedFiles, &ConsoleSettings::from_env(env)?))
    }
}

impl<F: ConsoleFiles> Console<F> {
    /// A console serving `files` with `settings`.
    pub fn new(files: F, settings: &ConsoleSettings) -> Console<F> {
        let policy = settings.content_security_policy();
        Console {
            files,
            settings: settings.clone(),
            config_json: settings.config_json(),
            // Built from origins that passed URL parsing: always a valid header.
            content_security_policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        }
    }

    /// Serves one request; never fails at the Lambda level.
    pub async fn handle(&self, request: Request) -> Result<Response<Body>, Infallible> {
        Ok(self.answer(&request))
    }

    fn answer(&self, request: &Request) -> Response<Body> {
        let head = request.method() == Method::HEAD;
        if request.method() != Method::GET && !head {
            let mut response = self.text(StatusCode::METHOD_NOT_ALLOWED, "only GET is served here");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return self.secure(request, response);
        }
        let raw_path = request.raw_http_path();
        let raw_path = if raw_path.is_empty() {
            request.uri().path()
        } else {
            raw_path
        };
        let response = match paths::target(raw_path) {
            Target::Base => {
                let location = match request.uri().query().filter(|q| !q.is_empty()) {
                    Some(query) => format!("{}?{query}", paths::BASE),
                    None => paths::BASE.to_owned(),
                };
                let mut response = self.empty(StatusCode::MOVED_PERMANENTLY);
                if let Ok(location) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                response
            }
            Target::Config => {
                let mut response = Response::builder()
                    .status(StatusCode::OK)
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::CACHE_CONTROL, Caching::Revalidate.header())
                    .body(Body::Text(self.config_json.clone()))
                    .unwrap_or_default();
                if head {
                    *response.body_mut() = Body::Empty;
                }
                response
            }
            Target::Page => self.page(head),
            Target::Path(path) => match self.files.get(path) {
                Some(file) => self.file(request, path, file, head),
                None if !paths::looks_like_a_file(path) => self.page(head),
                None if self.files.get(INDEX).is_none() => self.not_built(),
                None => self.text(StatusCode::NOT_FOUND, "no such file in the console"),
            },
            Target::NotFound => self.text(StatusCode::NOT_FOUND, "Not Found"),
        };
        self.secure(request, response)
    }

    /// The SPA's page, `index.html`, for its base and its client-side
    /// routes, with a fresh CSP nonce for the style elements its libraries
    /// insert (in a meta tag, and in this answer's policy). Never a 304: each
    /// answer has its own nonce.
    fn page(&self, head: bool) -> Response<Body> {
        let Some(index) = self.files.get(INDEX) else {
            return self.not_built();
        };
        let nonce = hex::encode(rand::random::<[u8; 16]>());
        let html = String::from_utf8_lossy(&index.bytes);
        let meta = format!("{NONCE_META}{nonce}\" />");
        let html = match html.find("</head>") {
            Some(at) => format!("{}{meta}\n  {}", &html[..at], &html[at..]),
            None => format!("{meta}{html}"),
        };
        let policy = HeaderValue::from_str(&self.settings.page_policy(&nonce))
            .unwrap_or_else(|_| self.content_security_policy.clone());
        let mut response = Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, files::content_type(INDEX))
            .header(header::CACHE_CONTROL, Caching::of(INDEX).header())
            .body(if head { Body::Empty } else { Body::Text(html) })
            .unwrap_or_default();
        // `secure` sets the shared policy only where none is set.
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
        response
    }

    fn not_built(&self) -> Response<Body> {
        tracing::warn!("a console page was asked for, but console/dist was not built into this function");
        let mut response = self.text(StatusCode::SERVICE_UNAVAILABLE, NOT_BUILT);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// A file of the build, or 304 when the browser's copy is current.
    fn file(&self, request: &Request, path: &str, file: ConsoleFile, head: bool) -> Response<Body> {
        let etag = format!("\"{}\"", hex::encode(file.sha256));
        let caching = Caching::of(path);
        let current = request
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| {
                tags.split(',')
                    .map(str::trim)
                    .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
            });
        let builder = Response::builder()
            .header(header::ETAG, &etag)
            .header(header::CACHE_CONTROL, caching.header());
        if current {
            return builder
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::Empty)
                .unwrap_or_default();
        }
        let content_type = files::content_type(path);
        let body = if head {
            Body::Empty
        } else if files::is_text(&content_type) {
            match String::from_utf8(file.bytes.into_owned()) {
                Ok(text) => Body::Text(text),
                Err(bytes) => Body::Binary(bytes.into_bytes()),
            }
        } else {
            Body::Binary(file.bytes.into_owned())
        };
        builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .unwrap_or_default()
    }

    fn text(&self, status: StatusCode, text: &str) -> Response<Body> {
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(Body::Text(text.to_owned()))
            .unwrap_or_default()
    }

    fn empty(&self, status: StatusCode) -> Response<Body> {
        Response::builder().status(status).body(Body::Empty).unwrap_or_default()
    }

    /// The headers every answer carries. HSTS only over HTTPS (API Gateway
    /// says so in `X-Forwarded-Proto`; the local runner serves plain HTTP).
    fn secure(&self, request: &Request, mut response: Response<Body>) -> Response<Body> {
        let over_http = request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("http"));
        let headers = response.headers_mut();
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, self.content_security_policy.clone());
        }
        if !over_http {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            );
        }
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        response
    }
}
