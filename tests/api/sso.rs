//! Single sign-on against a real OpenID Provider: panva's oidc-provider (OpenID Certified),
//! started from tests/oidc/provider.js as a node process on a loopback port for each test,
//! with two clients (NHSmail and CIS2) and accounts with NHSmail and CIS2 claims. The
//! provider's pages are driven over HTTP by a cookie-keeping client of their own.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use staffroom::config::{OidcCredentials, OidcProvider};
use staffroom::domain::UserId;

use crate::helpers::*;

// ---------------------------------------------------------------- the provider

struct TestProvider {
    child: Child,
    issuer: String,
    http: reqwest::Client,
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl TestProvider {
    fn start() -> Self {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test provider is not installed: run `npm ci` in tests/oidc"
        );
        let log = std::fs::File::create(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(
            format!("oidc-provider-{}.log", uuid::Uuid::new_v4().simple()),
        ))
        .unwrap();
        let mut child = Command::new("node")
            .arg("provider.js")
            .current_dir(&dir)
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("node runs tests/oidc/provider.js");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let issuer = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the provider did not start: {line:?}"))
            .to_string();
        Self {
            child,
            issuer,
            // A new connection each time: node closes idle ones after five seconds, and a test
            // may wait longer than that between two calls.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
        }
    }

    async fn admin(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.issuer))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn account(&self, sub: &str, claims: Value, amr: Option<&[&str]>, acr: Option<&str>) {
        self.admin(
            "/admin/accounts",
            json!({"sub": sub, "claims": claims, "amr": amr, "acr": acr}),
        )
        .await;
    }

    fn settings(&self) -> Vec<OidcProvider> {
        vec![
            OidcProvider {
                name: "nhsmail".into(),
                issuer: self.issuer.clone(),
                client_id: "staffroom-nhsmail".into(),
                credentials: OidcCredentials::Secret("nhsmail-secret".to_string().into()),
                label: "Sign in with NHSmail".into(),
                scopes: Vec::new(),
                email_domains: vec!["nhs.net".into()],
                mfa: vec!["mfa".into()],
            },
            OidcProvider {
                name: "cis2".into(),
                issuer: self.issuer.clone(),
                client_id: "staffroom-cis2".into(),
                credentials: OidcCredentials::Secret("cis2-secret".to_string().into()),
                label: "Sign in with NHS CIS2".into(),
                scopes: vec!["nationalrbacaccess".into(), "associatedorgs".into()],
                email_domains: Vec::new(),
                mfa: vec!["AAL3_ANY".into()],
            },
        ]
    }
}

/// The app with both providers configured, and the provider knowing the app's URLs.
async fn spawn_with_sso() -> (TestApp, TestProvider) {
    let provider = TestProvider::start();
    let settings = provider.settings();
    spawn_against(provider, settings, "client_secret_basic").await
}

async fn spawn_against(
    provider: TestProvider,
    oidc: Vec<OidcProvider>,
    cis2_auth: &str,
) -> (TestApp, TestProvider) {
    let smtp = SmtpServer::start().await;
    let mut settings = test_settings(&fresh_database(), smtp.port);
    settings.oidc = oidc;
    let app = spawn_with(settings, smtp).await;
    provider
        .admin(
            "/admin/clients",
            json!({"base_url": app.base_url, "cis2_auth": cis2_auth}),
        )
        .await;
    (app, provider)
}

// ---------------------------------------------------------------- a person at the provider

/// The person's browser as the provider sees it: its own cookies, no redirects followed.
struct AtProvider {
    client: reqwest::Client,
}

impl AtProvider {
    fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .cookie_provider(Arc::new(reqwest::cookie::Jar::default()))
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// Follows the provider's pages from the authorization URL, signing in as `sub` on its
    /// sign-in page, until it sends the browser back to Staffroom: that URL.
    async fn sign_in(&self, authorization_url: &str, sub: &str, app: &str) -> String {
        let mut next = authorization_url.to_string();
        let origin = origin(authorization_url);
        for _ in 0..10 {
            if next.starts_with(app) {
                return next;
            }
            let response = self.client.get(&next).send().await.unwrap();
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
            let body = response.text().await.unwrap();
            next = match (status, location) {
                (300..=399, Some(location)) => absolute(&origin, &location),
                (200, None) if next.contains("/interaction/") => {
                    let posted = self
                        .client
                        .post(&next)
                        .form(&[("login", sub), ("password", "not checked")])
                        .send()
                        .await
                        .unwrap();
                    let location = posted
                        .headers()
                        .get("location")
                        .unwrap_or_else(|| {
                            panic!("the sign-in page did not redirect: {}", posted.status())
                        })
                        .to_str()
                        .unwrap()
                        .to_string();
                    absolute(&origin, &location)
                }
                other => panic!("the provider answered {other:?}:\n{body}"),
            };
        }
        panic!("the provider never sent the browser back");
    }
}

fn origin(url: &str) -> String {
    let after_scheme = url.find("://").unwrap() + 3;
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| i + after_scheme);
    url[..end].to_string()
}

fn absolute(origin: &str, location: &str) -> String {
    if location.starts_with("http") {
        location.to_string()
    } else {
        format!("{origin}{location}")
    }
}

/// The query parameter `name` of `url`.
fn param(url: &str, name: &str) -> String {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// `url` with the query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_string())
            } else {
                (k, v)
            }
        })
        .collect();
    format!("{base}?{}", serde_urlencoded::to_string(pairs).unwrap())
}

/// Presses "Sign in with ..." on Staffroom's sign-in page: the provider's authorization URL.
async fn press(browser: &Browser, provider: &str) -> String {
    let started = browser
        .submit("/login", &format!("/login/sso/{provider}"), &[("next", "")])
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    started.location.unwrap()
}

/// The whole round trip: the button, the provider's sign-in as `sub`, and the callback.
async fn sso(app: &TestApp, browser: &Browser, provider: &str, sub: &str) -> Page {
    let authorization = press(browser, provider).await;
    let back = AtProvider::new()
        .sign_in(&authorization, sub, &app.base_url)
        .await;
    browser.get(&back).await
}

fn signed_in_sessions(app: &TestApp, user: UserId) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM sessions WHERE user_id = '{user}' AND state LIKE '%\"user_id\"%'"
    ))
}

fn user_id(app: &TestApp, email: &str) -> UserId {
    app.text(&format!("SELECT id FROM users WHERE email = '{email}'"))
        .parse()
        .unwrap()
}

async fn is_signed_in(browser: &Browser) -> bool {
    browser.get("/").await.status == 200
}

fn nhsmail_claims(email: &str) -> Value {
    json!({"email": email, "given_name": "Amy", "family_name": "Okonkwo", "name": "Amy Okonkwo"})
}

// ---------------------------------------------------------------- the tests

#[actix_web::test]
async fn a_new_nhsmail_person_with_mfa_is_created_and_signed_in_without_a_code() {
    let (app, op) = spawn_with_sso().await;
    let org = app.nhs_org();
    op.account(
        "amy-oid",
        nhsmail_claims("amy.okonkwo@nhs.net"),
        Some(&["pwd", "mfa"]),
        None,
    )
    .await;
    let login = app.browser.get("/login").await;
    assert!(login.body.contains("Sign in with NHSmail"));
    assert!(login.body.contains("action=\"/login/sso/nhsmail\""));
    // The form's answer redirects to the provider: form-action lets it, and nowhere else.
    let csp = login.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.ends_with(&format!("form-action 'self' {}", op.issuer)),
        "{csp}"
    );

    let back = sso(&app, &app.browser, "nhsmail", "amy-oid").await;

    back.assert_redirect_to("/");
    assert!(is_signed_in(&app.browser).await);
    let amy = user_id(&app, "amy.okonkwo@nhs.net");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM users WHERE id = '{amy}' AND password_hash IS NULL AND email_verified_at IS NOT NULL AND first_name = 'Amy' AND surname = 'Okonkwo'"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM user_identities WHERE user_id = '{amy}' AND provider = 'nhsmail' AND subject = 'amy-oid'"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM organisation_members WHERE user_id = '{amy}' AND organisation_id = '{org}'"
        )),
        1,
        "joined the organisation that admits nhs.net"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM sessions WHERE user_id = '{amy}' AND sso_provider = 'nhsmail' AND sso_sid IS NOT NULL"
        )),
        1,
        "the session remembers the provider's sid"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_sign_in' AND detail LIKE '%amr pwd mfa%'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM user_totp"),
        0,
        "no code was asked"
    );
}

#[actix_web::test]
async fn without_the_providers_second_factor_the_authenticator_code_is_still_asked() {
    let (app, op) = spawn_with_sso().await;
    let amy = app.enrolled_user("amy@nhs.net").await;
    op.account(
        "amy-oid",
        nhsmail_claims("amy@nhs.net"),
        Some(&["pwd"]),
        None,
    )
    .await;

    let back = sso(&app, &app.browser, "nhsmail", "amy-oid").await;

    back.assert_redirect_to("/login/two-factor");
    assert!(!is_signed_in(&app.browser).await, "not before the code");
    assert_eq!(signed_in_sessions(&app, amy.id), 0);
    app.browser
        .submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", &amy.code(1))],
        )
        .await
        .assert_redirect_to("/");
    assert!(is_signed_in(&app.browser).await);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM sessions WHERE user_id = '{}' AND sso_provider = 'nhsmail'",
            amy.id
        )),
        1,
        "the session still comes from the provider's, for its back-channel logout"
    );

    // A new person without MFA at the provider sets up an authenticator first.
    op.account("ben-oid", nhsmail_claims("ben@nhs.net"), None, None)
        .await;
    let ben = app.new_browser();
    sso(&app, &ben, "nhsmail", "ben-oid")
        .await
        .assert_redirect_to("/account/two-factor/setup");
    assert!(!is_signed_in(&ben).await);
    ben.enrol().await;
    assert!(is_signed_in(&ben).await);
}

#[actix_web::test]
async fn an_existing_account_is_linked_by_its_trusted_domain_and_a_second_sign_in_reaches_it() {
    let (app, op) = spawn_with_sso().await;
    let amy = app.enrolled_user("amy@nhs.net").await;
    // NHSmail's Entra ID sends no email_verified: the domain is what is trusted.
    op.account(
        "amy-oid",
        nhsmail_claims("Amy@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;

    sso(&app, &app.browser, "nhsmail", "amy-oid")
        .await
        .assert_redirect_to("/");
    let again = app.new_browser();
    sso(&app, &again, "nhsmail", "amy-oid")
        .await
        .assert_redirect_to("/");

    assert!(is_signed_in(&again).await);
    assert_eq!(
        app.count("SELECT count(*) FROM users"),
        1,
        "no second account"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM user_identities WHERE user_id = '{}' AND subject = 'amy-oid'",
            amy.id
        )),
        1
    );
    assert_eq!(signed_in_sessions(&app, amy.id), 2);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_linked'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_sign_in'"),
        2
    );
}

#[actix_web::test]
async fn an_untrusted_email_is_linked_only_after_the_password_and_code() {
    let (app, op) = spawn_with_sso().await;
    let amy = app.enrolled_user("amy@nhs.net").await;
    // CIS2 has no trusted domains here, and this account's address is not verified there.
    op.account(
        "amy-cis2",
        json!({"email": "amy@nhs.net", "email_verified": false, "given_name": "Amy", "family_name": "Okonkwo"}),
        None,
        Some("AAL3_ANY"),
    )
    .await;

    let back = sso(&app, &app.browser, "cis2", "amy-cis2").await;

    back.assert_redirect_to("/login");
    assert!(!is_signed_in(&app.browser).await);
    assert_eq!(signed_in_sessions(&app, amy.id), 0);
    assert_eq!(app.count("SELECT count(*) FROM user_identities"), 0);
    let login = app.browser.get("/login").await;
    assert!(
        login
            .body
            .contains("account is not linked to this Staffroom account"),
        "{}",
        login.body
    );

    // Someone else's password does not link it.
    let other = app.create_user(app.nhs_org(), "other@nhs.net");
    app.browser
        .log_in(&other.email, &other.password)
        .await
        .assert_redirect_to("/account/two-factor/setup");
    app.browser.enrol().await;
    assert_eq!(app.count("SELECT count(*) FROM user_identities"), 0);
    app.browser.log_out().await;

    // Amy's own password and code do.
    let amy_browser = app.new_browser();
    sso(&app, &amy_browser, "cis2", "amy-cis2")
        .await
        .assert_redirect_to("/login");
    amy_browser
        .log_in_fully(&amy, 1)
        .await
        .assert_redirect_to("/");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM user_identities WHERE user_id = '{}' AND provider = 'cis2'",
            amy.id
        )),
        1
    );
    let fresh = app.new_browser();
    sso(&app, &fresh, "cis2", "amy-cis2")
        .await
        .assert_redirect_to("/");
    assert!(is_signed_in(&fresh).await);
}

#[actix_web::test]
async fn a_wrong_state_a_replayed_code_a_code_for_the_other_client_and_a_wrong_nonce_sign_nobody_in(
) {
    let (app, op) = spawn_with_sso().await;
    app.nhs_org();
    op.account(
        "amy-oid",
        nhsmail_claims("amy@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;
    let nobody_signed_in =
        |app: &TestApp| app.count("SELECT count(*) FROM sessions WHERE state LIKE '%\"user_id\"%'");

    // A wrong state.
    let browser = app.new_browser();
    let authorization = press(&browser, "nhsmail").await;
    let back = AtProvider::new()
        .sign_in(&authorization, "amy-oid", &app.base_url)
        .await;
    let forged = browser.get(&with_param(&back, "state", "forged")).await;
    assert_eq!(forged.status, 400, "{}", forged.body);
    assert!(forged.body.contains("NHSmail did not confirm your sign-in"));
    assert!(!is_signed_in(&browser).await);
    assert_eq!(nobody_signed_in(&app), 0);

    // A code replayed with the cookie that came with it.
    let browser = app.new_browser();
    let authorization = press(&browser, "nhsmail").await;
    let back = AtProvider::new()
        .sign_in(&authorization, "amy-oid", &app.base_url)
        .await;
    let cookies = browser.cookie_header();
    browser.get(&back).await.assert_redirect_to("/");
    assert_eq!(nobody_signed_in(&app), 1);
    let replayed = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&back)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 400);
    assert_eq!(nobody_signed_in(&app), 1, "the replay signed nobody in");

    // A code the provider gave the CIS2 client, brought to the NHSmail callback with that
    // browser's own state.
    let browser = app.new_browser();
    let for_cis2 = press(&browser, "cis2").await;
    let cis2_back = AtProvider::new()
        .sign_in(&for_cis2, "amy-oid", &app.base_url)
        .await;
    let for_nhsmail = press(&browser, "nhsmail").await;
    let swapped = format!(
        "{}/login/sso/nhsmail/callback?code={}&state={}",
        app.base_url,
        param(&cis2_back, "code"),
        param(&for_nhsmail, "state")
    );
    let refused = browser.get(&swapped).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(!is_signed_in(&browser).await);
    assert_eq!(nobody_signed_in(&app), 1);

    // An ID token with a nonce this browser was not given.
    let browser = app.new_browser();
    let authorization = press(&browser, "nhsmail").await;
    let tampered = with_param(&authorization, "nonce", "someone-elses-nonce");
    let back = AtProvider::new()
        .sign_in(&tampered, "amy-oid", &app.base_url)
        .await;
    let refused = browser.get(&back).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(!is_signed_in(&browser).await);
    assert_eq!(nobody_signed_in(&app), 1);

    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_refused' AND detail LIKE '%state%'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_refused' AND detail LIKE '%refused the code%'"),
        2,
        "the replayed code and the other client's code"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_refused' AND detail LIKE '%nonce%'"),
        1
    );
}

#[actix_web::test]
async fn the_provider_rotating_its_signing_key_keeps_sign_in_working() {
    let (app, op) = spawn_with_sso().await;
    app.nhs_org();
    op.account(
        "amy-oid",
        nhsmail_claims("amy@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;
    sso(&app, &app.new_browser(), "nhsmail", "amy-oid")
        .await
        .assert_redirect_to("/");

    let rotated = op.admin("/admin/rotate-keys", json!({})).await;

    let browser = app.new_browser();
    let authorization = press(&browser, "nhsmail").await;
    let back = AtProvider::new()
        .sign_in(&authorization, "amy-oid", &app.base_url)
        .await;
    browser.get(&back).await.assert_redirect_to("/");
    assert!(is_signed_in(&browser).await);
    assert!(rotated["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_sign_in'"),
        2
    );
}

#[actix_web::test]
async fn cis2_puts_the_person_in_the_organisation_with_their_ods_code_and_shows_their_roles() {
    let (app, op) = spawn_with_sso().await;
    let org = staffroom::cli::create_organisation_with_ods_code(
        &app.pool,
        "Wiltshire Health",
        &["wiltshire.example".to_string()],
        Some("rwk"),
    )
    .unwrap();
    let elsewhere = app.nhs_org();
    op.account(
        "sam-uuid",
        json!({
            "email": "sam.patel@cis2.example",
            "email_verified": true,
            "given_name": "Sam",
            "family_name": "Patel",
            "nhsid_nrbac_roles": [
                {"org_code": "RWK", "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"", "role_code": "S8000:G8000:R8001", "person_roleid": "5555"}
            ],
            "nhsid_user_orgs": [{"org_code": "RWK", "org_name": "WILTSHIRE HEALTH"}]
        }),
        None,
        Some("AAL3_ANY"),
    )
    .await;

    sso(&app, &app.browser, "cis2", "sam-uuid")
        .await
        .assert_redirect_to("/");

    let sam = user_id(&app, "sam.patel@cis2.example");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM organisation_members WHERE user_id = '{sam}' AND organisation_id = '{org}'"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM organisation_members WHERE user_id = '{sam}' AND organisation_id = '{elsewhere}'"
        )),
        0
    );
    let tara = app.trust_admin(org, "tara@wiltshire.example").await;
    let page = tara
        .browser
        .get(&format!("/organisations/{org}/admin/users/{sam}"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Nurse Access Role") && page.body.contains("(RWK)"),
        "{}",
        page.body
    );
    let settings = tara
        .browser
        .get(&format!("/organisations/{org}/settings"))
        .await;
    assert!(settings.body.contains("value=\"RWK\""), "{}", settings.body);
}

#[actix_web::test]
async fn cis2_signs_in_with_a_private_key_jwt_client_assertion() {
    let provider = TestProvider::start();
    let pem = provider.admin("/admin/client-key", json!({})).await["pem"]
        .as_str()
        .unwrap()
        .to_string();
    let mut oidc = provider.settings();
    oidc[1].credentials = OidcCredentials::PrivateKey(pem.into());
    let (app, op) = spawn_against(provider, oidc, "private_key_jwt").await;
    app.nhs_org();
    op.account(
        "sam-uuid",
        json!({"email": "sam@nhs.net", "email_verified": true, "given_name": "Sam", "family_name": "Patel"}),
        None,
        Some("AAL3_ANY"),
    )
    .await;

    sso(&app, &app.browser, "cis2", "sam-uuid")
        .await
        .assert_redirect_to("/");

    assert!(is_signed_in(&app.browser).await);
    // The provider takes no secret from this client: a wrong key would have been refused.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM user_identities WHERE provider = 'cis2' AND subject = 'sam-uuid'"
        ),
        1
    );
}

#[actix_web::test]
async fn back_channel_logout_ends_the_session_at_once_and_a_replayed_token_is_refused() {
    let (app, op) = spawn_with_sso().await;
    app.nhs_org();
    op.account(
        "amy-oid",
        nhsmail_claims("amy@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;
    sso(&app, &app.browser, "nhsmail", "amy-oid")
        .await
        .assert_redirect_to("/");
    let amy = user_id(&app, "amy@nhs.net");
    let sid = app.text(&format!(
        "SELECT sso_sid FROM sessions WHERE user_id = '{amy}'"
    ));
    let other = app.new_browser();
    sso(&app, &other, "nhsmail", "amy-oid")
        .await
        .assert_redirect_to("/");
    assert_eq!(signed_in_sessions(&app, amy), 2);

    // The provider itself sends the logout token for the first browser's provider session.
    op.admin(
        "/admin/backchannel-logout",
        json!({"client_id": "staffroom-nhsmail", "sub": "amy-oid", "sid": sid}),
    )
    .await;

    assert!(!is_signed_in(&app.browser).await, "ended at once");
    // The other browser signed in through another provider session: it goes on.
    assert!(is_signed_in(&other).await);
    assert_eq!(signed_in_sessions(&app, amy), 1);

    // A token the provider signed, posted twice: the second is a replay.
    let third = app.new_browser();
    sso(&app, &third, "nhsmail", "amy-oid")
        .await
        .assert_redirect_to("/");
    let sid = app.text(&format!(
        "SELECT sso_sid FROM sessions WHERE user_id = '{amy}' AND sso_sid <> '{sid}' ORDER BY created_at DESC LIMIT 1"
    ));
    let token = op
        .admin(
            "/admin/logout-token",
            json!({"client_id": "staffroom-nhsmail", "sub": "amy-oid", "sid": sid}),
        )
        .await["logout_token"]
        .as_str()
        .unwrap()
        .to_string();
    let post = |token: String| {
        let url = format!("{}/login/sso/nhsmail/backchannel-logout", app.base_url);
        async move {
            reqwest::Client::new()
                .post(url)
                .form(&[("logout_token", token)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(post(token.clone()).await, 200);
    assert!(!is_signed_in(&third).await);
    assert_eq!(post(token.clone()).await, 400, "replayed");
    // A token for the other client, and one with its signature broken, are refused.
    let for_cis2 = op
        .admin(
            "/admin/logout-token",
            json!({"client_id": "staffroom-cis2", "sub": "amy-oid", "sid": sid}),
        )
        .await["logout_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(post(for_cis2).await, 400, "aud is the other client");
    let mut broken = token.clone();
    broken.pop();
    broken.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(post(broken).await, 400);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_logout'"),
        2
    );
}

#[actix_web::test]
async fn an_sso_only_organisation_refuses_its_members_password_naming_the_button() {
    let (app, op) = spawn_with_sso().await;
    let org = app.nhs_org();
    let tara = app.trust_admin(org, "tara@nhs.net").await;
    let dave = app.create_user(org, "dave@nhs.net");
    let settings = format!("/organisations/{org}/settings");
    let sso_only = [
        ("domains", "nhs.net\nnhs.uk"),
        ("ods_code", ""),
        ("sign_in_policy", "sso_only"),
    ];
    // Not before the administrator has single sign-on of their own: they would be locked out.
    let refused = tara.browser.submit(&settings, &settings, &sso_only).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused
        .body
        .contains("Link single sign-on to your own account first"));
    op.account(
        "tara-oid",
        nhsmail_claims("tara@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;
    let started = tara
        .browser
        .submit(
            "/account/sign-in-methods",
            "/login/sso/nhsmail",
            &[("next", "/account/sign-in-methods")],
        )
        .await;
    let back = AtProvider::new()
        .sign_in(
            started.location.as_deref().unwrap(),
            "tara-oid",
            &app.base_url,
        )
        .await;
    tara.browser
        .get(&back)
        .await
        .assert_redirect_to("/account/sign-in-methods");

    tara.browser
        .submit(&settings, &settings, &sso_only)
        .await
        .assert_redirect_to(&settings);

    let refused = app.browser.log_in(&dave.email, &dave.password).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("single sign-on only"));
    assert!(refused.body.contains("Sign in with NHSmail"));
    assert!(!is_signed_in(&app.browser).await);
    // A wrong password still gets the usual answer: the policy tells nothing about an address.
    let wrong = app
        .browser
        .log_in(&dave.email, "not the password at all")
        .await;
    assert_eq!(wrong.status, 422);
    let page = tara.browser.get(&settings).await;
    assert!(
        page.body.contains("value=\"sso_only\" checked"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn unlinking_the_last_way_in_is_refused_and_another_is_unlinked() {
    let (app, op) = spawn_with_sso().await;
    app.nhs_org();
    op.account(
        "amy-oid",
        nhsmail_claims("amy@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;
    sso(&app, &app.browser, "nhsmail", "amy-oid")
        .await
        .assert_redirect_to("/");
    let identity = app.text("SELECT id FROM user_identities");
    let methods = app.browser.get("/account/sign-in-methods").await;
    assert_eq!(methods.status, 200, "{}", methods.body);
    assert!(methods.body.contains("You do not sign in with a password"));
    assert!(methods.body.contains("Link: Sign in with NHS CIS2"));

    let refused = app
        .browser
        .submit(
            "/account/sign-in-methods",
            &format!("/account/sign-in-methods/{identity}/unlink"),
            &[],
        )
        .await;

    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("only way to sign in"));
    assert_eq!(app.count("SELECT count(*) FROM user_identities"), 1);

    // Someone else's identity is not found; with a password, one can go.
    let ben = app.enrolled_user("ben@nhs.net").await;
    let ben_browser = app.new_browser();
    ben_browser
        .log_in_fully(&ben, 1)
        .await
        .assert_redirect_to("/");
    let theirs = ben_browser
        .submit(
            "/account/sign-in-methods",
            &format!("/account/sign-in-methods/{identity}/unlink"),
            &[],
        )
        .await;
    assert_eq!(theirs.status, 404);
    op.account(
        "ben-oid",
        nhsmail_claims("ben@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;
    let started = ben_browser
        .submit(
            "/account/sign-in-methods",
            "/login/sso/nhsmail",
            &[("next", "/account/sign-in-methods")],
        )
        .await;
    let back = AtProvider::new()
        .sign_in(
            started.location.as_deref().unwrap(),
            "ben-oid",
            &app.base_url,
        )
        .await;
    ben_browser
        .get(&back)
        .await
        .assert_redirect_to("/account/sign-in-methods");
    let ben_identity = app.text(&format!(
        "SELECT id FROM user_identities WHERE user_id = '{}'",
        ben.id
    ));
    ben_browser
        .submit(
            "/account/sign-in-methods",
            &format!("/account/sign-in-methods/{ben_identity}/unlink"),
            &[],
        )
        .await
        .assert_redirect_to("/account/sign-in-methods");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM user_identities WHERE user_id = '{}'",
            ben.id
        )),
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sso_unlinked'"),
        1
    );
}

#[actix_web::test]
async fn a_person_clicks_sign_in_with_nhsmail_through_the_providers_page_and_lands_home() {
    if !crate::browser_support::browser_available() {
        return;
    }
    let (app, op) = spawn_with_sso().await;
    app.nhs_org();
    op.account(
        "amy-oid",
        nhsmail_claims("amy@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;
    let base_url = app.base_url.clone();

    crate::browser_support::with_windows(move |windows| async move {
        let amy = windows
            .open(&base_url, "amy", crate::browser_support::Script::On)
            .await;
        amy.visit("/login").await;
        amy.press("Sign in with NHSmail").await;
        assert_eq!(amy.heading().await, "Sign in to the test provider");
        amy.fill("Username", "amy-oid").await;
        amy.fill("Password", "whatever the provider asks").await;
        amy.press("Sign in").await;
        assert_eq!(amy.path().await, "/");
        amy.sees("Amy Okonkwo").await;
    })
    .await;

    let amy = user_id(&app, "amy@nhs.net");
    assert_eq!(signed_in_sessions(&app, amy), 1);
}

/// Not a check: prints how long the callback takes (code exchange, ID token check, account
/// lookup, session) beside the password step, measured in the same run. `cargo test --test
/// api sso::timing -- --ignored --nocapture`.
#[actix_web::test]
#[ignore]
async fn timing_of_the_callback_beside_the_password_step() {
    let (app, op) = spawn_with_sso().await;
    let org = app.nhs_org();
    op.account(
        "amy-oid",
        nhsmail_claims("amy@nhs.net"),
        Some(&["mfa"]),
        None,
    )
    .await;
    app.create_user(org, "ben@nhs.net");
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let (mut callback, mut password, mut keys) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..21 {
        let browser = app.new_browser();
        let authorization = press(&browser, "nhsmail").await;
        let back = AtProvider::new()
            .sign_in(&authorization, "amy-oid", &app.base_url)
            .await;
        let started = std::time::Instant::now();
        browser.get(&back).await.assert_redirect_to("/");
        let took = started.elapsed().as_secs_f64() * 1000.0;
        if round % 3 == 2 {
            // The round after a rotation fetches the keys again.
            keys.push(took);
        } else {
            callback.push(took);
        }
        if round % 3 == 1 {
            op.admin("/admin/rotate-keys", json!({})).await;
        }
        let other = app.new_browser();
        let csrf = other.csrf().await;
        let started = std::time::Instant::now();
        other
            .log_in_with_token("ben@nhs.net", PASSWORD, &csrf)
            .await
            .assert_redirect_to("/account/two-factor/setup");
        password.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (c, k, p) = (median(callback), median(keys), median(password));
    println!(
        "median ms: callback {c:.1}, callback after a key rotation {k:.1}, password step {p:.1}; callback/password {:.2}",
        c / p
    );
}
