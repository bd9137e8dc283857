//! What the console function learns from its environment at init: how agents
//! sign in and where media links point. From it come the runtime
//! configuration the console reads at start (`/console/config.json`) and the
//! Content-Security-Policy of every answer.

use helpdesk::config::Env;

/// How agents sign in to the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The local runner's token issuer (`GET /_local/agents`, `GET /_local/token`).
    Local,
    /// Cognito's hosted UI, authorization code flow with PKCE.
    Cognito {
        /// The hosted UI's origin, `https://<prefix>.auth.<region>.amazoncognito.com`.
        domain: String,
        /// The public app client the console signs in with.
        client_id: String,
    },
    /// An external OIDC issuer (the stack's `AgentAuthIssuer`): the console
    /// has no sign-in of its own and expects a token from elsewhere.
    External,
}

/// Why the environment does not describe a console that can be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("CONSOLE_AUTH_MODE is required (local, cognito or external)")]
    MissingAuthMode,
    #[error("CONSOLE_AUTH_MODE must be local, cognito or external, not {0:?}")]
    UnknownAuthMode(String),
    #[error("{0} is required when CONSOLE_AUTH_MODE is cognito")]
    MissingForCognito(&'static str),
    #[error("{0} is not an absolute http(s) URL")]
    NotAnOrigin(&'static str),
}

/// The console's settings, read once at init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSettings {
    /// How agents sign in.
    pub sign_in: SignIn,
    /// The origin presigned media links (GET and PUT) point at: the media
    /// bucket's regional virtual-hosted origin on AWS, moto locally. `None`
    /// leaves media to the console's own origin.
    pub media_origin: Option<String>,
}

impl ConsoleSettings {
    /// `CONSOLE_AUTH_MODE` (`local`, `cognito` or `external`); with `cognito`,
    /// `COGNITO_DOMAIN_URL` and `COGNITO_CLIENT_ID`; `MEDIA_ORIGIN_URL`
    /// (optional). URLs are reduced to their origin.
    pub fn from_env(env: &Env) -> Result<ConsoleSettings, SettingsError> {
        let present = |name: &str| env.get(name).map(str::trim).filter(|v| !v.is_empty());
        let sign_in = match present("CONSOLE_AUTH_MODE") {
            None => return Err(SettingsError::MissingAuthMode),
            Some("local") => SignIn::Local,
            Some("external") => SignIn::External,
            Some("cognito") => {
                let domain =
                    present("COGNITO_DOMAIN_URL").ok_or(SettingsError::MissingForCognito("COGNITO_DOMAIN_URL"))?;
                let client_id =
                    present("COGNITO_CLIENT_ID").ok_or(SettingsError::MissingForCognito("COGNITO_CLIENT_ID"))?;
                SignIn::Cognito {
                    domain: origin_of(domain).ok_or(SettingsError::NotAnOrigin("COGNITO_DOMAIN_URL"))?,
                    client_id: client_id.to_owned(),
                }
            }
            Some(other) => return Err(SettingsError::UnknownAuthMode(other.to_owned())),
        };
        let media_origin = present("MEDIA_ORIGIN_URL")
            .map(|url| origin_of(url).ok_or(SettingsError::NotAnOrigin("MEDIA_ORIGIN_URL")))
            .transpose()?;
        Ok(ConsoleSettings { sign_in, media_origin })
    }

    /// The body of `/console/config.json`: `{"auth":"local"}`,
    /// `{"auth":"external"}`, or
    /// `{"auth":"cognito","cognito":{"domain":"https://…","client_id":"…"}}`.
    pub fn config_json(&self) -> String {
        let config = match &self.sign_in {
            SignIn::Local => serde_json::json!({"auth": "local"}),
            SignIn::External => serde_json::json!({"auth": "external"}),
            SignIn::Cognito { domain, client_id } => serde_json::json!({
                "auth": "cognito",
                "cognito": {"domain": domain, "client_id": client_id},
            }),
        };
        config.to_string()
    }

    /// The Content-Security-Policy of every answer: the console's own files
    /// only (no inline script or style), media from the media origin, and
    /// the Cognito hosted UI for the sign-in redirect and token calls.
    /// Sources that are not configured are left out.
    pub fn content_security_policy(&self) -> String {
        self.policy(None)
    }

    /// The policy of the console's page: also the `<style>` elements that
    /// carry `nonce` (the dialogs' scroll lock inserts one; the page hands
    /// the nonce to it). Still no inline script.
    pub fn page_policy(&self, nonce: &str) -> String {
        self.policy(Some(&format!("'nonce-{nonce}'")))
    }

    fn policy(&self, style_nonce: Option<&str>) -> String {
        let media = self.media_origin.as_deref();
        let cognito = match &self.sign_in {
            SignIn::Cognito { domain, .. } => Some(domain.as_str()),
            SignIn::Local | SignIn::External => None,
        };
        let directives: [(&str, &[Option<&str>]); 12] = [
            ("default-src", &[Some("'none'")]),
            ("script-src", &[Some("'self'")]),
            ("style-src", &[Some("'self'"), style_nonce]),
            ("img-src", &[Some("'self'"), Some("blob:"), Some("data:"), media]),
            ("media-src", &[Some("'self'"), Some("blob:"), media]),
            ("connect-src", &[Some("'self'"), media, cognito]),
            ("font-src", &[Some("'self'")]),
            ("manifest-src", &[Some("'self'")]),
            ("base-uri", &[Some("'none'")]),
            ("form-action", &[Some("'self'"), cognito]),
            ("frame-ancestors", &[Some("'none'")]),
            ("object-src", &[Some("'none'")]),
        ];
        directives
            .iter()
            .map(|(name, sources)| {
                let sources: Vec<&str> = sources.iter().flatten().copied().collect();
                format!("{name} {}", sources.join(" "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// `scheme://host[:port]` of an absolute http(s) URL, as a CSP source and a
/// browser's `Origin` spell it.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.has_host() {
        return None;
    }
    Some(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_map(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn a_cognito_console_names_its_hosted_ui_and_client_in_its_configuration() {
        let settings = ConsoleSettings::from_env(&env(&[
            ("CONSOLE_AUTH_MODE", "cognito"),
            (
                "COGNITO_DOMAIN_URL",
                "https://helpdesk-1a2b.auth.eu-west-1.amazoncognito.com/",
            ),
            ("COGNITO_CLIENT_ID", "4example5client6id"),
            ("MEDIA_ORIGIN_URL", "https://media-bucket.s3.eu-west-1.amazonaws.com"),
        ]))
        .unwrap();

        let config: serde_json::Value = serde_json::from_str(&settings.config_json()).unwrap();

        assert_eq!(
            config,
            serde_json::json!({"auth": "cognito", "cognito": {
                "domain": "https://helpdesk-1a2b.auth.eu-west-1.amazoncognito.com",
                "client_id": "4example5client6id",
            }})
        );
    }

    #[test]
    fn the_policy_of_a_cognito_console_allows_the_media_bucket_and_the_hosted_ui_and_nothing_inline() {
        let settings = ConsoleSettings {
            sign_in: SignIn::Cognito {
                domain: "https://helpdesk.auth.eu-west-1.amazoncognito.com".into(),
                client_id: "c".into(),
            },
            media_origin: Some("https://media.s3.eu-west-1.amazonaws.com".into()),
        };

        let policy = settings.content_security_policy();

        assert_eq!(
            policy,
            "default-src 'none'; script-src 'self'; style-src 'self'; \
             img-src 'self' blob: data: https://media.s3.eu-west-1.amazonaws.com; \
             media-src 'self' blob: https://media.s3.eu-west-1.amazonaws.com; \
             connect-src 'self' https://media.s3.eu-west-1.amazonaws.com https://helpdesk.auth.eu-west-1.amazoncognito.com; \
             font-src 'self'; manifest-src 'self'; base-uri 'none'; \
             form-action 'self' https://helpdesk.auth.eu-west-1.amazoncognito.com; \
             frame-ancestors 'none'; object-src 'none'"
        );
        assert!(!policy.contains("unsafe"));
    }

    #[test]
    fn a_local_console_allows_moto_for_media_and_no_sign_in_origin() {
        let settings = ConsoleSettings::from_env(&env(&[
            ("CONSOLE_AUTH_MODE", "local"),
            ("MEDIA_ORIGIN_URL", "http://127.0.0.1:5000"),
        ]))
        .unwrap();

        let policy = settings.content_security_policy();

        assert_eq!(settings.config_json(), r#"{"auth":"local"}"#);
        assert!(policy.contains("connect-src 'self' http://127.0.0.1:5000;"), "{policy}");
        assert!(policy.contains("form-action 'self';"), "{policy}");
    }

    #[test]
    fn without_a_media_origin_the_media_sources_are_the_console_s_own() {
        let settings = ConsoleSettings::from_env(&env(&[("CONSOLE_AUTH_MODE", "external")])).unwrap();

        let policy = settings.content_security_policy();

        assert_eq!(settings.config_json(), r#"{"auth":"external"}"#);
        assert!(policy.contains("img-src 'self' blob: data:;"), "{policy}");
        assert!(policy.contains("connect-src 'self';"), "{policy}");
    }

    #[test]
    fn a_missing_or_unknown_mode_and_an_incomplete_cognito_setup_stop_the_start() {
        assert_eq!(
            ConsoleSettings::from_env(&env(&[])),
            Err(SettingsError::MissingAuthMode)
        );
        assert_eq!(
            ConsoleSettings::from_env(&env(&[("CONSOLE_AUTH_MODE", "saml")])),
            Err(SettingsError::UnknownAuthMode("saml".into()))
        );
        assert_eq!(
            ConsoleSettings::from_env(&env(&[
                ("CONSOLE_AUTH_MODE", "cognito"),
                ("COGNITO_DOMAIN_URL", "https://x.auth.us-east-1.amazoncognito.com"),
            ])),
            Err(SettingsError::MissingForCognito("COGNITO_CLIENT_ID"))
        );
        assert_eq!(
            ConsoleSettings::from_env(&env(&[
                ("CONSOLE_AUTH_MODE", "local"),
                ("MEDIA_ORIGIN_URL", "s3-bucket")
            ])),
            Err(SettingsError::NotAnOrigin("MEDIA_ORIGIN_URL"))
        );
    }
}
