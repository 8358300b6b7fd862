//! Sign-in with password and authenticator: enrolment, replay protection, recovery codes,
//! sign-out, throttling and safe redirects.

use crate::helpers::*;

#[actix_web::test]
async fn sign_in_with_an_unknown_email_and_with_a_wrong_password_answer_identically() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    app.create_user(org, "amy@nhs.net");

    let unknown = app
        .browser
        .log_in("nobody@nhs.net", "wrong password 123")
        .await;
    let wrong = app
        .browser
        .log_in("amy@nhs.net", "wrong password 123")
        .await;

    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.status, wrong.status);
    let strip =
        |page: &Page, email: &str| page.body.replace(&page.csrf(), "").replace(email, "EMAIL");
    assert_eq!(
        strip(&unknown, "nobody@nhs.net"),
        strip(&wrong, "amy@nhs.net")
    );
    assert!(wrong
        .body
        .contains("Enter a correct email address and password"));
}

#[actix_web::test]
async fn two_factor_enrolment_shows_the_secret_and_ten_recovery_codes_then_sign_in_needs_a_code() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let user = app.create_user(org, "amy@nhs.net");

    app.browser
        .log_in(&user.email, &user.password)
        .await
        .assert_redirect_to("/account/two-factor/setup");
    assert_eq!(
        app.browser.get("/").await.status,
        303,
        "not signed in before the second factor"
    );
    let setup = app.browser.get("/account/two-factor/setup").await;
    assert!(setup.body.contains("<svg"), "a QR code");
    let (secret, codes) = app.browser.enrol().await;
    assert_eq!(codes.len(), 10);
    assert_eq!(secret.len(), 20);
    assert_eq!(
        app.browser.get("/").await.status,
        200,
        "signed in after enrolment"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM recovery_codes WHERE code_hash LIKE '%-%'"),
        0,
        "codes stored hashed"
    );

    app.browser.log_out().await.assert_redirect_to("/login");
    let user = TestUser {
        totp_secret: Some(secret),
        ..user
    };
    app.browser
        .log_in(&user.email, &user.password)
        .await
        .assert_redirect_to("/login/two-factor");
    let wrong = app
        .browser
        .submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, 422);
    app.browser
        .submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", &user.code(1))],
        )
        .await
        .assert_redirect_to("/");
    let home = app.browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("My Workspace"));
}

#[actix_web::test]
async fn the_same_totp_code_twice_is_refused() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    let code = user.code(1);

    let first = app.new_browser();
    first.log_in(&user.email, &user.password).await;
    first
        .submit("/login/two-factor", "/login/two-factor", &[("code", &code)])
        .await
        .assert_redirect_to("/");

    let second = app.new_browser();
    second.log_in(&user.email, &user.password).await;
    let replay = second
        .submit("/login/two-factor", "/login/two-factor", &[("code", &code)])
        .await;
    assert_eq!(replay.status, 422);
    assert_eq!(second.get("/").await.status, 303);
}

#[actix_web::test]
async fn two_parallel_sign_ins_with_one_code_let_exactly_one_in() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    let code = user.code(1);
    let (a, b) = (app.new_browser(), app.new_browser());
    a.log_in(&user.email, &user.password).await;
    b.log_in(&user.email, &user.password).await;
    let (csrf_a, csrf_b) = (
        a.get("/login/two-factor").await.csrf(),
        b.get("/login/two-factor").await.csrf(),
    );

    let (form_a, form_b) = (
        [("code", code.as_str()), ("csrf_token", &csrf_a)],
        [("code", code.as_str()), ("csrf_token", &csrf_b)],
    );
    let (ra, rb) = tokio::join!(
        a.post_raw("/login/two-factor", &form_a),
        b.post_raw("/login/two-factor", &form_b)
    );

    let winners = [ra.status, rb.status].iter().filter(|s| **s == 303).count();
    assert_eq!(winners, 1, "statuses {} and {}", ra.status, rb.status);
}

#[actix_web::test]
async fn a_code_from_two_steps_ago_is_refused() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    app.sql("UPDATE user_totp SET last_step = NULL");
    let old = user.code(-2);
    // A code two steps old may collide with a current one one time in a million: skip then.
    if [-1, 0, 1].iter().any(|o| user.code(*o) == old) {
        return;
    }

    app.browser.log_in(&user.email, &user.password).await;
    let page = app
        .browser
        .submit("/login/two-factor", "/login/two-factor", &[("code", &old)])
        .await;

    assert_eq!(page.status, 422);
}

#[actix_web::test]
async fn each_recovery_code_works_once() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let user = app.create_user(org, "amy@nhs.net");
    app.browser.log_in(&user.email, &user.password).await;
    let (_secret, codes) = app.browser.enrol().await;
    app.browser.log_out().await;

    app.browser.log_in(&user.email, &user.password).await;
    let used = app
        .browser
        .submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", &codes[0])],
        )
        .await;
    used.assert_redirect_to("/");
    assert!(app
        .browser
        .get("/")
        .await
        .body
        .contains("You have 9 recovery codes left"));
    app.browser.log_out().await;

    app.browser.log_in(&user.email, &user.password).await;
    let again = app
        .browser
        .submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", &codes[0])],
        )
        .await;
    assert_eq!(again.status, 422);
    // Typed in capitals with a space instead of the hyphen, another code still works.
    let typed = codes[1].to_uppercase().replace('-', " ");
    app.browser
        .submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", &typed)],
        )
        .await
        .assert_redirect_to("/");
}

#[actix_web::test]
async fn logout_kills_the_session_server_side() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    app.browser
        .log_in_fully(&user, 1)
        .await
        .assert_redirect_to("/");
    let cookie = session_cookie(&app).await;
    assert_eq!(app.browser.get("/").await.status, 200);

    app.browser.log_out().await.assert_redirect_to("/login");

    // Replaying the old cookie from another client gets nothing.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = replay
        .get(format!("{}/", app.base_url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(
        app.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"),
        0
    );
}

/// The session's cookie alone (the browser also holds the signed-out form token's cookie).
async fn session_cookie(app: &TestApp) -> String {
    let all = app.browser.cookie_header();
    all.split("; ")
        .find(|c| c.starts_with("staffroom="))
        .unwrap_or_else(|| panic!("no session cookie in {all}"))
        .to_string()
}

#[actix_web::test]
async fn thirty_wrong_passwords_throttle_the_account() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    app.create_user(org, "amy@nhs.net");

    let mut last = None;
    for _ in 0..30 {
        last = Some(app.browser.log_in("amy@nhs.net", "not the password").await);
    }
    let last = last.unwrap();
    assert_eq!(last.status, 429);
    assert!(last.body.contains("Too many attempts"));

    // Even the right password is refused while throttled, from another client too.
    let right = app.new_browser().log_in("amy@nhs.net", PASSWORD).await;
    assert_eq!(right.status, 429);
    // An address nobody owns is throttled the same way: no enumeration through throttling.
    for _ in 0..6 {
        app.browser
            .log_in("nobody@nhs.net", "not the password")
            .await;
    }
    assert_eq!(
        app.browser
            .log_in("nobody@nhs.net", "not the password")
            .await
            .status,
        429
    );
}

#[actix_web::test]
async fn next_only_ever_redirects_on_site() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    for next in [
        "//evil.example",
        "https://evil.example",
        "/%2F%2Fevil.example",
        "/\\evil.example",
    ] {
        app.sql("UPDATE user_totp SET last_step = NULL");
        let browser = app.new_browser();
        let login = browser
            .get(&format!("/login?next={}", urlencode(next)))
            .await;
        assert!(!login.body.contains("evil.example"));
        browser
            .submit(
                "/login",
                "/login",
                &[
                    ("email", &user.email),
                    ("password", &user.password),
                    ("next", next),
                ],
            )
            .await
            .assert_redirect_to("/login/two-factor");
        let done = browser
            .submit(
                "/login/two-factor",
                "/login/two-factor",
                &[("code", &user.code(0))],
            )
            .await;
        done.assert_redirect_to("/");
    }
    // A path on the site is honoured.
    app.sql("UPDATE user_totp SET last_step = NULL");
    let browser = app.new_browser();
    browser.get("/login?next=%2Fdev%2Fmailbox").await;
    browser
        .submit(
            "/login",
            "/login",
            &[
                ("email", &user.email),
                ("password", &user.password),
                ("next", "/healthz"),
            ],
        )
        .await;
    browser
        .submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", &user.code(0))],
        )
        .await
        .assert_redirect_to("/healthz");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[actix_web::test]
async fn a_signed_out_visitor_is_sent_to_sign_in_and_back() {
    let app = spawn_app().await;
    app.browser
        .get("/")
        .await
        .assert_redirect_to("/login?next=%2F");
}

#[actix_web::test]
async fn an_unverified_account_cannot_sign_in_and_gets_a_new_link() {
    let app = spawn_app().await;
    app.nhs_org();
    app.browser
        .sign_up("Dave", "Patel", "dave@nhs.net", PASSWORD)
        .await;
    app.smtp.wait_for("dave@nhs.net").await;

    let page = app.browser.log_in("dave@nhs.net", PASSWORD).await;

    assert_eq!(page.status, 403);
    assert!(page.body.contains("Confirm your email address"));
    app.smtp
        .wait_for_nth("dave@nhs.net", 2)
        .await
        .link_to("/verify/");
}
