//! The local stand-in for the agent API's Cognito JWT authorizer: an issuer of
//! HS256 ID tokens signed with a key made at start, and the check API Gateway
//! would make before calling the function.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `iss` of local tokens.
pub const ISSUER: &str = "helpdesk-local";
/// `aud` of local tokens.
pub const AUDIENCE: &str = "helpdesk-local-agents";
/// How long a local token lasts (as a Cognito ID token may: 12 hours).
pub const TOKEN_TTL: Duration = Duration::from_secs(43_200);

/// Issues and checks local agent tokens.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl Default for TokenIssuer {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenIssuer {
    /// An issuer with a fresh random key: tokens die with the runner.
    pub fn new() -> TokenIssuer {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        // API Gateway allows no clock skew on `exp`; neither does the local check.
        validation.leeway = 0;
        TokenIssuer {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            validation,
        }
    }

    /// A token for `agent` in `teams`, valid for `ttl` from now (expired when
    /// `ttl` is zero), with the claims of a Cognito ID token.
    pub fn issue(&self, agent: &str, teams: &[String], ttl: Duration) -> anyhow::Result<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        // A zero lifetime yields a token that is already expired, for tests of the refusal.
        let exp = if ttl.is_zero() {
            now.saturating_sub(1)
        } else {
            now + ttl.as_secs()
        };
        let claims = serde_json::json!({
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": agent,
            "cognito:username": agent,
            "cognito:groups": teams,
            "token_use": "id",
            "iat": now,
            "exp": exp,
        });
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid token, or `None` when it is missing, malformed,
    /// badly signed, expired or for another issuer or audience.
    pub fn verify(&self, token: &str) -> Option<Map<String, Value>> {
        jsonwebtoken::decode::<Map<String, Value>>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The token of an `Authorization` header value: API Gateway takes it with
    /// or without the `Bearer ` prefix.
    pub fn verify_header(&self, authorization: Option<&str>) -> Option<Map<String, Value>> {
        let value = authorization?.trim();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        if token.is_empty() { None } else { self.verify(token) }
    }
}

/// The claims as API Gateway HTTP API hands them to Lambda in
/// `requestContext.authorizer.jwt.claims`: every value a string, arrays
/// flattened to `[a b]`.
pub fn api_gateway_claims(claims: &Map<String, Value>) -> HashMap<String, String> {
    claims
        .iter()
        .map(|(name, value)| (name.clone(), claim_string(value)))
        .collect()
}

fn claim_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{}]", items.iter().map(claim_string).collect::<Vec<_>>().join(" ")),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_token_verifies_and_its_groups_flatten_as_api_gateway_does() {
        let issuer = TokenIssuer::new();
        let token = issuer
            .issue("ana", &["billing".into(), "support".into()], TOKEN_TTL)
            .unwrap();

        let claims = issuer
            .verify_header(Some(&format!("Bearer {token}")))
            .expect("valid token");
        let flat = api_gateway_claims(&claims);

        assert_eq!(flat["cognito:username"], "ana");
        assert_eq!(flat["sub"], "ana");
        assert_eq!(flat["cognito:groups"], "[billing support]");
        assert_eq!(flat["token_use"], "id");
        assert_eq!(flat["iss"], ISSUER);
        assert!(flat["exp"].parse::<u64>().is_ok());
    }

    #[test]
    fn expired_foreign_and_missing_tokens_are_refused() {
        let issuer = TokenIssuer::new();
        let expired = issuer.issue("ana", &[], Duration::ZERO).unwrap();
        let foreign = TokenIssuer::new().issue("ana", &[], TOKEN_TTL).unwrap();

        assert!(issuer.verify(&expired).is_none());
        assert!(issuer.verify(&foreign).is_none());
        assert!(issuer.verify_header(None).is_none());
        assert!(issuer.verify_header(Some("Bearer ")).is_none());
        assert!(issuer.verify("not-a-jwt").is_none());
    }
}
