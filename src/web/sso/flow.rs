//! The browser's half of a single sign-on in flight: `state`, `nonce` and the PKCE verifier,
//! the page to return to and (when linking) who started it, in a short-lived encrypted,
//! HttpOnly cookie. A signed-out visitor has no session row, and gets none for pressing the
//! button; the callback reads the cookie once and removes it.

use actix_web::cookie::{time::Duration, Cookie, CookieJar, SameSite};
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};

use crate::auth::oidc::FlowSecrets;
use crate::domain::UserId;
use crate::state::AppState;

/// A sign-in not finished in ten minutes starts again.
pub const LIFETIME_MINUTES: i64 = 10;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flow {
    pub provider: String,
    pub secrets: FlowSecrets,
    pub next: Option<String>,
    /// Set when a signed-in person links this provider from Sign-in methods.
    pub linking: Option<UserId>,
    /// Unix seconds: the cookie's own Max-Age is the browser's to honour, this is ours.
    pub started: i64,
}

/// `__Host-` needs Secure, so only under https.
fn name(state: &AppState) -> &'static str {
    if state.settings.is_https() {
        "__Host-staffroom_sso"
    } else {
        "staffroom_sso"
    }
}

fn base(state: &AppState, value: String) -> Cookie<'static> {
    let mut cookie = Cookie::new(name(state), value);
    cookie.set_http_only(true);
    // Lax: the provider sends the browser back with a top-level GET, which carries it.
    cookie.set_same_site(SameSite::Lax);
    cookie.set_path("/");
    cookie.set_secure(state.settings.is_https());
    cookie
}

/// The cookie that carries `flow`, encrypted and authenticated with the server's key.
pub fn cookie(state: &AppState, flow: &Flow) -> anyhow::Result<Cookie<'static>> {
    let mut cookie = base(state, serde_json::to_string(flow)?);
    cookie.set_max_age(Duration::minutes(LIFETIME_MINUTES));
    let mut jar = CookieJar::new();
    jar.private_mut(&state.cookie_key).add(cookie);
    Ok(jar
        .get(name(state))
        .cloned()
        .expect("the cookie just added"))
}

/// The flow this browser started, if its cookie is ours, readable and not stale.
pub fn read(req: &HttpRequest, state: &AppState) -> Option<Flow> {
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(name(state))?);
    let value = jar.private(&state.cookie_key).get(name(state))?;
    let flow: Flow = serde_json::from_str(value.value()).ok()?;
    let age = chrono::Utc::now().timestamp() - flow.started;
    (0..=LIFETIME_MINUTES * 60).contains(&age).then_some(flow)
}

/// The response with the cookie added.
pub fn with_cookie(
    mut response: actix_web::HttpResponse,
    cookie: &Cookie<'static>,
) -> crate::error::AppResult<actix_web::HttpResponse> {
    response
        .add_cookie(cookie)
        .map_err(|e| anyhow::anyhow!("cannot set the sign-in cookie: {e}"))?;
    Ok(response)
}

/// Removes the cookie (a flow is used once, whatever it came to).
pub fn removal(state: &AppState) -> Cookie<'static> {
    let mut cookie = base(state, String::new());
    cookie.make_removal();
    cookie
}
