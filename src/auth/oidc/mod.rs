//! The OpenID Connect relying party (NHSmail through Entra ID, NHS CIS2): each configured
//! provider's discovery document and signing keys, fetched when first needed and kept (the
//! keys fetched again when a token names a key we do not have: a rotation is no outage); the
//! authorization request (code flow, PKCE S256, `state`, `nonce`); the code's exchange
//! (`client_secret_basic` or `private_key_jwt`) and the ID token's full check; and (`logout`)
//! the back-channel logout token's. Nothing here touches the database or the web layer: what a
//! verified sign-in leads to is `services::sso`'s decision.

pub mod http;
pub mod logout;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreRsaPrivateSigningKey, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthorizationCode, ClaimsVerificationError, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdToken, IdTokenClaims, IdTokenFields, IssuerUrl, JsonWebKeyId, JsonWebKeySet, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PrivateSigningKey, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, StandardErrorResponse,
    StandardTokenResponse, TokenResponse, UserInfoClaims,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use self::http::{chain, HttpClient};
use crate::config::{OidcCredentials, OidcProvider};

/// How far a provider's clock may be from ours, either way.
pub const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(60);
/// An ID token issued longer ago than this is refused: the code it came with is minutes old
/// at most.
const MAX_TOKEN_AGE: chrono::Duration = chrono::Duration::minutes(10);
/// The discovery document is fetched again after this long (endpoints rarely move).
const REDISCOVER_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The NHS claims beside the standard ones: CIS2's roles and organisations, and the session
/// id that back-channel logout names.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NhsClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhsid_nrbac_roles: Option<Vec<NrbacRole>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhsid_user_orgs: Option<Vec<UserOrg>>,
}

impl AdditionalClaims for NhsClaims {}

/// One of CIS2's `nhsid_nrbac_roles`: a role the person holds at an organisation.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NrbacRole {
    #[serde(default)]
    pub org_code: Option<String>,
    #[serde(default)]
    pub role_name: Option<String>,
    #[serde(default)]
    pub role_code: Option<String>,
}

/// One of CIS2's `nhsid_user_orgs`: an organisation the person is associated with.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct UserOrg {
    #[serde(default)]
    pub org_code: Option<String>,
    #[serde(default)]
    pub org_name: Option<String>,
}

type NhsIdTokenFields = IdTokenFields<
    NhsClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type NhsTokenResponse = StandardTokenResponse<NhsIdTokenFields, CoreTokenType>;
type NhsIdToken =
    IdToken<NhsClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>;
type NhsIdTokenClaims = IdTokenClaims<NhsClaims, CoreGenderClaim>;

/// A client made from a provider's discovery document: authorization endpoint set, token and
/// userinfo endpoints as the document says.
type RpClient = Client<
    NhsClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    NhsTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in through a provider did not complete. The text is for the audit trail and the
/// log: never a token, a code or a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoError {
    /// The provider could not be reached, or answered something that is not OpenID Connect.
    Unavailable(String),
    /// The provider refused, or what came back failed a check (state, nonce, signature, ...).
    NotConfirmed(String),
}

impl SsoError {
    pub fn reason(&self) -> &str {
        match self {
            SsoError::Unavailable(reason) | SsoError::NotConfirmed(reason) => reason,
        }
    }
}

/// The configured providers, in the order of `STAFFROOM_OIDC_PROVIDERS`.
#[derive(Default)]
pub struct Providers {
    list: Vec<Arc<Provider>>,
}

impl Providers {
    pub fn new(settings: &[OidcProvider]) -> anyhow::Result<Self> {
        let list = settings
            .iter()
            .map(|s| Provider::new(s.clone()).map(Arc::new))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { list })
    }

    pub fn get(&self, name: &str) -> Option<Arc<Provider>> {
        self.list.iter().find(|p| p.settings.name == name).cloned()
    }

    pub fn all(&self) -> &[Arc<Provider>] {
        &self.list
    }

    /// The buttons' words, to name them in a message ("use Sign in with NHSmail").
    pub fn labels(&self) -> Vec<String> {
        self.list.iter().map(|p| p.settings.label.clone()).collect()
    }
}

/// What the provider's document and keys were when last fetched.
#[derive(Clone)]
struct Known {
    metadata: CoreProviderMetadata,
    discovered_at: Instant,
    keys_fetched_at: Instant,
}

pub struct Provider {
    pub settings: OidcProvider,
    http: HttpClient,
    /// `private_key_jwt`: the key that signs the client assertion, and its id (the RFC 7638
    /// thumbprint of its public half, which the provider finds in the key set registered).
    signing_key: Option<(CoreRsaPrivateSigningKey, String)>,
    known: tokio::sync::RwLock<Option<Known>>,
    /// One fetch at a time: a burst of sign-ins after a key rotation fetches the keys once.
    fetching: tokio::sync::Mutex<()>,
}

/// The authorization request: where to send the browser, and the secrets to keep in it.
pub struct Begun {
    pub url: String,
    pub secrets: FlowSecrets,
}

/// What binds a callback to the browser that started it: kept in that browser's encrypted
/// cookie, compared on the way back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlowSecrets {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// What a provider vouched for, after every check passed.
#[derive(Debug, Clone)]
pub struct Verified {
    pub provider: String,
    pub subject: String,
    /// As the provider gave it (lower-cased); `None` when it gave none.
    pub email: Option<String>,
    /// `email_verified: true`, or the address is in one of `_EMAIL_DOMAINS`.
    pub email_trusted: bool,
    pub first_name: Option<String>,
    pub surname: Option<String>,
    /// `acr` or `amr` shows a second factor (`_MFA`).
    pub second_factor: bool,
    /// The provider's session, which a back-channel logout names.
    pub sid: Option<String>,
    /// CIS2's role names, as "Role name (ORG)".
    pub role_names: Vec<String>,
    /// ODS codes from `nhsid_nrbac_roles` and `nhsid_user_orgs`, upper-cased.
    pub org_codes: Vec<String>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
}

impl Provider {
    pub fn new(settings: OidcProvider) -> anyhow::Result<Self> {
        let upper = settings.name.to_uppercase();
        let issuer: openidconnect::http::Uri = settings
            .issuer
            .parse()
            .map_err(|e| anyhow::anyhow!("STAFFROOM_OIDC_{upper}_ISSUER: {e}"))?;
        anyhow::ensure!(
            http::allowed(&issuer),
            "STAFFROOM_OIDC_{upper}_ISSUER must be an https URL (plain http only on this machine)"
        );
        let signing_key = match &settings.credentials {
            OidcCredentials::Secret(_) => None,
            OidcCredentials::PrivateKey(pem) => {
                Some(signing_key(pem.expose_secret()).map_err(|e| {
                    anyhow::anyhow!(
                        "STAFFROOM_OIDC_{}_PRIVATE_KEY_FILE: {e}",
                        settings.name.to_uppercase()
                    )
                })?)
            }
        };
        Ok(Self {
            settings,
            http: HttpClient::new()?,
            signing_key,
            known: Default::default(),
            fetching: Default::default(),
        })
    }

    /// The provider's name for people: "NHSmail" from "Sign in with NHSmail".
    pub fn display_name(&self) -> String {
        let label = &self.settings.label;
        label
            .strip_prefix("Sign in with ")
            .or_else(|| label.strip_prefix("Sign in using "))
            .unwrap_or(label)
            .to_string()
    }

    /// The document and keys, discovered on first use (the server starts while a provider is
    /// away) and again once a day.
    async fn known(&self) -> Result<Known, SsoError> {
        if let Some(known) = self.known.read().await.as_ref() {
            if known.discovered_at.elapsed() < REDISCOVER_AFTER {
                return Ok(known.clone());
            }
        }
        let _turn = self.fetching.lock().await;
        if let Some(known) = self.known.read().await.as_ref() {
            if known.discovered_at.elapsed() < REDISCOVER_AFTER {
                return Ok(known.clone());
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| SsoError::Unavailable(format!("the issuer is not a URL: {e}")))?;
        // Discovery checks that the document's issuer is exactly the one configured.
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SsoError::Unavailable(format!("discovery failed: {}", chain(&e))))?;
        let now = Instant::now();
        let known = Known {
            metadata,
            discovered_at: now,
            keys_fetched_at: now,
        };
        *self.known.write().await = Some(known.clone());
        Ok(known)
    }

    /// The keys again, because a token named one we do not have; `seen` is when the keys that
    /// lacked it were fetched (another request may have fetched newer ones meanwhile), and
    /// keys younger than `min_age` are not fetched again (a flood of forged tokens costs the
    /// provider nothing).
    async fn refresh_keys(&self, seen: Instant, min_age: Duration) -> Result<Known, SsoError> {
        let _turn = self.fetching.lock().await;
        let current = self.known.read().await.clone();
        let Some(mut known) = current else {
            drop(_turn);
            return self.known().await;
        };
        if known.keys_fetched_at > seen || known.keys_fetched_at.elapsed() < min_age {
            return Ok(known);
        }
        let keys: JsonWebKeySet<CoreJsonWebKey> =
            JsonWebKeySet::fetch_async(known.metadata.jwks_uri(), &self.http)
                .await
                .map_err(|e| SsoError::Unavailable(format!("the key set: {}", chain(&e))))?;
        tracing::info!(provider = %self.settings.name, keys = keys.keys().len(), "signing keys fetched again");
        known.metadata = known.metadata.set_jwks(keys);
        known.keys_fetched_at = Instant::now();
        *self.known.write().await = Some(known.clone());
        Ok(known)
    }

    fn client(&self, metadata: CoreProviderMetadata, redirect: &str) -> Result<RpClient, SsoError> {
        let secret = match &self.settings.credentials {
            OidcCredentials::Secret(secret) => {
                Some(ClientSecret::new(secret.expose_secret().to_string()))
            }
            OidcCredentials::PrivateKey(_) => None,
        };
        let redirect = RedirectUrl::new(redirect.to_string())
            .map_err(|e| SsoError::Unavailable(format!("the redirect URL: {e}")))?;
        let client: RpClient = Client::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            secret,
        );
        Ok(client
            .set_redirect_uri(redirect)
            .set_auth_type(if self.signing_key.is_some() {
                AuthType::RequestBody
            } else {
                AuthType::BasicAuth
            }))
    }

    /// The authorization request: code flow, PKCE S256, a fresh `state` and `nonce`.
    pub async fn begin(&self, redirect: &str) -> Result<Begun, SsoError> {
        let known = self.known().await?;
        let client = self.client(known.metadata, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()));
        for scope in &self.settings.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Begun {
            url: url.to_string(),
            secrets: FlowSecrets {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        })
    }

    /// Exchanges the code (with the PKCE verifier) and checks the ID token fully: signature
    /// against the provider's keys (fetched again once when it names an unknown key), exact
    /// `iss`, `aud` containing our client id and no one we do not know, `azp`, `exp` and `iat`
    /// within a minute's skew, and the `nonce` this browser was given.
    pub async fn complete(
        &self,
        redirect: &str,
        code: String,
        secrets: &FlowSecrets,
    ) -> Result<Verified, SsoError> {
        let known = self.known().await?;
        let client = self.client(known.metadata.clone(), redirect)?;
        let mut request = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|_| SsoError::Unavailable("the provider has no token endpoint".into()))?
            .set_pkce_verifier(PkceCodeVerifier::new(secrets.pkce_verifier.clone()));
        if let Some((key, kid)) = &self.signing_key {
            let audience = known
                .metadata
                .token_endpoint()
                .map(|u| u.to_string())
                .unwrap_or_default();
            request = request
                .add_extra_param(
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                )
                .add_extra_param(
                    "client_assertion",
                    self.client_assertion(key, kid, &audience)?,
                );
        }
        let response = request
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(refused) => SsoError::NotConfirmed(format!(
                    "the token endpoint refused the code: {}",
                    refused.error()
                )),
                other => SsoError::Unavailable(format!("the token endpoint: {}", chain(&other))),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| SsoError::NotConfirmed("no ID token came with the code".into()))?;
        let claims = match self.verify(&client, id_token, &secrets.nonce) {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let known = self
                    .refresh_keys(known.keys_fetched_at, Duration::ZERO)
                    .await?;
                let client = self.client(known.metadata, redirect)?;
                self.verify(&client, id_token, &secrets.nonce)
            }
            other => other,
        }
        .map_err(|e| SsoError::NotConfirmed(format!("the ID token: {e}")))?;
        let mut verified = self.verified(&claims);
        if verified.role_names.is_empty()
            && verified.org_codes.is_empty()
            && self.wants_nhs_claims()
        {
            // CIS2 gives its roles and organisations at the userinfo endpoint, not in the
            // ID token: asked for, checked to be about the same person.
            let extra = self
                .user_info(&client, response.access_token().clone(), &claims)
                .await?;
            verified.role_names = role_names(&extra);
            verified.org_codes = org_codes(&extra);
        }
        Ok(verified)
    }

    fn wants_nhs_claims(&self) -> bool {
        self.settings
            .scopes
            .iter()
            .any(|s| s == "nationalrbacaccess" || s == "associatedorgs")
    }

    async fn user_info(
        &self,
        client: &RpClient,
        token: openidconnect::AccessToken,
        claims: &NhsIdTokenClaims,
    ) -> Result<NhsClaims, SsoError> {
        let Ok(request) = client.user_info(token, Some(claims.subject().clone())) else {
            return Ok(NhsClaims::default());
        };
        let info: UserInfoClaims<NhsClaims, CoreGenderClaim> = request
            .request_async(&self.http)
            .await
            .map_err(|e| SsoError::NotConfirmed(format!("the userinfo endpoint: {}", chain(&e))))?;
        Ok(info.additional_claims().clone())
    }

    fn verify(
        &self,
        client: &RpClient,
        token: &NhsIdToken,
        nonce: &str,
    ) -> Result<NhsIdTokenClaims, ClaimsVerificationError> {
        let now = Utc::now();
        let verifier = client
            .id_token_verifier()
            .require_issuer_match(true)
            .require_audience_match(true)
            .set_allowed_algs(ASYMMETRIC.iter().cloned())
            // `exp` must be after now, give or take the skew.
            .set_time_fn(move || now - CLOCK_SKEW)
            .set_issue_time_verifier_fn(move |iat: DateTime<Utc>| {
                if iat > now + CLOCK_SKEW {
                    Err(format!("issued in the future ({iat})"))
                } else if iat < now - MAX_TOKEN_AGE - CLOCK_SKEW {
                    Err(format!("issued too long ago ({iat})"))
                } else {
                    Ok(())
                }
            });
        let claims = token
            .claims(&verifier, &Nonce::new(nonce.to_string()))?
            .clone();
        // The crate leaves `azp` to its callers.
        match claims.authorized_party() {
            Some(azp) if azp.as_str() != self.settings.client_id => {
                return Err(ClaimsVerificationError::InvalidAudience(format!(
                    "azp names another client ({})",
                    azp.as_str()
                )))
            }
            None if claims.audiences().len() > 1 => {
                return Err(ClaimsVerificationError::InvalidAudience(
                    "several audiences and no azp".into(),
                ))
            }
            _ => {}
        }
        Ok(claims)
    }

    fn verified(&self, claims: &NhsIdTokenClaims) -> Verified {
        let email = claims
            .email()
            .map(|e| e.as_str().trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty());
        let in_trusted_domain = email.as_deref().is_some_and(|email| {
            let domain = email.rsplit_once('@').map_or("", |(_, d)| d);
            self.settings
                .email_domains
                .iter()
                .any(|d| domain == d || domain.ends_with(&format!(".{d}")))
        });
        let acr = claims.auth_context_ref().map(|a| a.as_str().to_string());
        let amr: Vec<String> = claims
            .auth_method_refs()
            .map(|refs| refs.iter().map(|r| r.as_str().to_string()).collect())
            .unwrap_or_default();
        let mfa = &self.settings.mfa;
        let second_factor =
            acr.as_ref().is_some_and(|a| mfa.contains(a)) || amr.iter().any(|a| mfa.contains(a));
        let extra = claims.additional_claims();
        Verified {
            provider: self.settings.name.clone(),
            subject: claims.subject().as_str().to_string(),
            email_trusted: email.is_some()
                && (claims.email_verified() == Some(true) || in_trusted_domain),
            email,
            first_name: claims
                .given_name()
                .and_then(|c| c.get(None))
                .and_then(|n| non_blank(n.as_str())),
            surname: claims
                .family_name()
                .and_then(|c| c.get(None))
                .and_then(|n| non_blank(n.as_str())),
            second_factor,
            sid: extra.sid.clone(),
            role_names: role_names(extra),
            org_codes: org_codes(extra),
            acr,
            amr,
        }
    }

    /// `private_key_jwt` (RFC 7523): a short-lived assertion signed with our key, for the
    /// token endpoint only.
    fn client_assertion(
        &self,
        key: &CoreRsaPrivateSigningKey,
        kid: &str,
        audience: &str,
    ) -> Result<String, SsoError> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = Utc::now().timestamp();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
        let claims = serde_json::json!({
            "iss": self.settings.client_id,
            "sub": self.settings.client_id,
            "aud": audience,
            "jti": CsrfToken::new_random().secret(),
            "iat": now,
            "exp": now + 300,
        });
        let input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let signature = key
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
            )
            .map_err(|e| SsoError::Unavailable(format!("signing the client assertion: {e}")))?;
        Ok(format!("{input}.{}", b64.encode(signature)))
    }
}

/// Signatures made with a provider's public keys only: never a shared secret, never `none`.
const ASYMMETRIC: &[CoreJwsSigningAlgorithm] = &[
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

fn non_blank(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

fn role_names(claims: &NhsClaims) -> Vec<String> {
    let mut names: Vec<String> = claims
        .nhsid_nrbac_roles
        .iter()
        .flatten()
        .filter_map(|role| {
            let name = role.role_name.as_deref()?.trim();
            Some(match role.org_code.as_deref() {
                Some(org) if !org.trim().is_empty() => format!("{name} ({})", org.trim()),
                _ => name.to_string(),
            })
        })
        .filter(|n| !n.is_empty())
        .collect();
    names.dedup();
    names
}

fn org_codes(claims: &NhsClaims) -> Vec<String> {
    let roles = claims
        .nhsid_nrbac_roles
        .iter()
        .flatten()
        .filter_map(|r| r.org_code.clone());
    let orgs = claims
        .nhsid_user_orgs
        .iter()
        .flatten()
        .filter_map(|o| o.org_code.clone());
    let mut codes: Vec<String> = roles
        .chain(orgs)
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// The signing key from its PEM (PKCS#1 RSA), with its RFC 7638 thumbprint as its key id.
fn signing_key(pem: &str) -> Result<(CoreRsaPrivateSigningKey, String), String> {
    let key = CoreRsaPrivateSigningKey::from_pem(pem, None)?;
    let public = serde_json::to_value(key.as_verification_key()).map_err(|e| e.to_string())?;
    let (Some(n), Some(e)) = (public["n"].as_str(), public["e"].as_str()) else {
        return Err("not an RSA key".into());
    };
    // Members in lexicographic order, no whitespace (RFC 7638 section 3).
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let digest = <sha2::Sha256 as sha2::Digest>::digest(canonical.as_bytes());
    let kid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    let key = CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.clone())))?;
    Ok((key, kid))
}
