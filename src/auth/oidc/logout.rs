//! OpenID Connect Back-Channel Logout 1.0: the logout token's checks (section 2.6). The
//! crate has no logout token type, so the JWT is taken apart here and its signature checked
//! with the crate's own key code against the provider's key set; the `jti` replay check is
//! the caller's (it needs the database).

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use openidconnect::JsonWebKey;
use serde_json::Value;

use super::{Provider, SsoError, ASYMMETRIC, CLOCK_SKEW};

const BACKCHANNEL_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token older than this is refused (the provider sends it as the session ends).
const MAX_AGE: chrono::Duration = chrono::Duration::minutes(10);
/// Keys are fetched again for an unknown `kid` at most this often: the endpoint is open to
/// anyone, and a forged token must not make us hammer the provider.
const KEY_REFRESH_MIN_AGE: Duration = Duration::from_secs(30);

/// What a valid logout token asks: end the sessions of `sid`, or of `sub` at this provider.
#[derive(Debug, Clone)]
pub struct LogoutRequest {
    pub subject: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    /// Until when the `jti` must be remembered.
    pub keep_until: chrono::DateTime<Utc>,
}

impl Provider {
    /// Checks a logout token: its signature against the provider's keys (fetched again for
    /// an unknown key, at most every 30 seconds), exact `iss`, `aud` containing our client id,
    /// `iat` within ten minutes and a minute's skew, `exp` if present, the back-channel
    /// `events` member, no `nonce`, a `jti`, and `sid` or `sub`.
    pub async fn check_logout_token(&self, token: &str) -> Result<LogoutRequest, SsoError> {
        let refused = |why: &str| SsoError::NotConfirmed(format!("the logout token: {why}"));
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let parts: Vec<&str> = token.trim().split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return Err(refused("not a signed JWT"));
        };
        let header: Value = b64
            .decode(header)
            .ok()
            .and_then(|h| serde_json::from_slice(&h).ok())
            .ok_or_else(|| refused("unreadable header"))?;
        let alg: CoreJwsSigningAlgorithm =
            serde_json::from_value(header["alg"].clone()).map_err(|_| refused("unknown alg"))?;
        if !ASYMMETRIC.contains(&alg) {
            return Err(refused("alg is not one of the provider's asymmetric ones"));
        }
        if let Some(typ) = header.get("typ").and_then(Value::as_str) {
            let typ = typ.to_ascii_lowercase();
            if typ != "logout+jwt" && typ != "application/logout+jwt" && typ != "jwt" {
                return Err(refused("typ is not logout+jwt"));
            }
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .map(str::to_string);
        let signature = b64
            .decode(signature)
            .map_err(|_| refused("unreadable signature"))?;
        let signed = &token.trim().as_bytes()[..header_and_payload_len(token.trim())];

        let known = self.known().await?;
        let verified = |keys: &[CoreJsonWebKey]| -> Result<bool, SsoError> {
            let candidates: Vec<&CoreJsonWebKey> = keys
                .iter()
                .filter(|k| match (&kid, k.key_id()) {
                    (Some(kid), Some(id)) => id.as_str() == kid,
                    (Some(_), None) => false,
                    (None, _) => true,
                })
                .collect();
            if kid.is_none() && candidates.len() > 1 {
                return Err(refused("no kid, and the provider has several keys"));
            }
            Ok(candidates
                .iter()
                .any(|k| k.verify_signature(&alg, signed, &signature).is_ok()))
        };
        let mut good = verified(known.metadata.jwks().keys())?;
        let names_unknown_key = kid.as_ref().is_some_and(|kid| {
            !known
                .metadata
                .jwks()
                .keys()
                .iter()
                .any(|k| k.key_id().is_some_and(|id| id.as_str() == kid))
        });
        if !good && names_unknown_key {
            let known = self
                .refresh_keys(known.keys_fetched_at, KEY_REFRESH_MIN_AGE)
                .await?;
            good = verified(known.metadata.jwks().keys())?;
        }
        if !good {
            return Err(refused("the signature is not the provider's"));
        }

        let claims: Value = b64
            .decode(payload)
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or_else(|| refused("unreadable claims"))?;
        if claims["iss"].as_str() != Some(self.settings.issuer.as_str()) {
            return Err(refused("iss is not the provider's"));
        }
        let client_id = self.settings.client_id.as_str();
        let for_us = match &claims["aud"] {
            Value::String(aud) => aud == client_id,
            Value::Array(auds) => auds.iter().any(|a| a.as_str() == Some(client_id)),
            _ => false,
        };
        if !for_us {
            return Err(refused("aud is not this client"));
        }
        let now = Utc::now();
        let iat = claims["iat"]
            .as_i64()
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .ok_or_else(|| refused("no iat"))?;
        if iat > now + CLOCK_SKEW || iat < now - MAX_AGE - CLOCK_SKEW {
            return Err(refused("iat is too far from now"));
        }
        let exp = match claims.get("exp") {
            None => None,
            Some(exp) => Some(
                exp.as_i64()
                    .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                    .ok_or_else(|| refused("exp is not a time"))?,
            ),
        };
        if exp.is_some_and(|exp| exp < now - CLOCK_SKEW) {
            return Err(refused("expired"));
        }
        if !claims["events"]
            .get(BACKCHANNEL_EVENT)
            .is_some_and(Value::is_object)
        {
            return Err(refused("events has no back-channel logout event"));
        }
        if claims.get("nonce").is_some() {
            return Err(refused("it carries a nonce (an ID token?)"));
        }
        let text = |name: &str| {
            claims[name]
                .as_str()
                .map(str::to_string)
                .filter(|v| !v.is_empty())
        };
        let jti = text("jti").ok_or_else(|| refused("no jti"))?;
        let (subject, sid) = (text("sub"), text("sid"));
        if subject.is_none() && sid.is_none() {
            return Err(refused("neither sid nor sub"));
        }
        let keep_until = exp.unwrap_or(iat).max(iat + MAX_AGE) + CLOCK_SKEW;
        Ok(LogoutRequest {
            subject,
            sid,
            jti,
            keep_until,
        })
    }
}

/// The length of `header.payload`, the part the signature covers.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(0)
}
