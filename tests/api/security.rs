//! CSRF, security headers, cookies and the error pages.

use crate::helpers::*;

#[actix_web::test]
async fn a_post_without_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.nhs_org();
    app.browser.get("/signup").await;

    let missing = app
        .browser
        .post_raw(
            "/signup",
            &[
                ("first_name", "Dave"),
                ("surname", "Patel"),
                ("email", "dave@nhs.net"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let wrong = app
        .browser
        .post_raw(
            "/signup",
            &[
                ("first_name", "Dave"),
                ("surname", "Patel"),
                ("email", "dave@nhs.net"),
                ("password", PASSWORD),
                ("csrf_token", "forged"),
            ],
        )
        .await;

    assert_eq!(missing.status, 403);
    assert_eq!(wrong.status, 403);
    assert!(missing.body.contains("This form has expired"));
    assert_eq!(
        missing.headers.get("referrer-policy").unwrap(),
        "no-referrer",
        "error pages carry the headers"
    );
    assert_eq!(app.count("SELECT count(*) FROM users"), 0);
    for path in [
        "/login",
        "/logout",
        "/login/two-factor",
        "/account/two-factor/setup",
        "/password/forgot",
        "/verify/x",
        "/password/reset/x",
        "/setup/x",
    ] {
        assert_eq!(
            app.browser
                .post_raw(path, &[("email", "a@nhs.net")])
                .await
                .status,
            403,
            "{path}"
        );
    }
    // Another session's token is no good either.
    let other = app.new_browser().csrf().await;
    assert_eq!(
        app.browser
            .post_raw("/logout", &[("csrf_token", &other)])
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn the_security_headers_are_on_every_page() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    app.browser.log_in_fully(&user, 1).await;

    for path in [
        "/",
        "/login",
        "/signup",
        "/password/forgot",
        "/healthz",
        "/no-such-page",
        "/verify/unknown",
        "/static/css/app.css",
    ] {
        let page = app.browser.get(path).await;
        let header = |name: &str| {
            page.headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let csp = header("content-security-policy");
        for directive in [
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "script-src 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        if path != "/static/css/app.css" {
            assert_eq!(header("cache-control"), "no-store", "{path}");
        }
        // Script only from files (the CSP forbids inline script): each tag has a src and no body.
        for tag in page.body.split("<script").skip(1) {
            let (open, rest) = tag.split_once('>').unwrap();
            assert!(open.contains(" src=\"/static/"), "{path}: <script{open}>");
            assert!(rest.starts_with("</script>"), "{path}: inline script");
        }
    }
    assert_eq!(app.browser.get("/no-such-page").await.status, 404);
}

#[actix_web::test]
async fn the_session_cookie_is_http_only_and_same_site_lax_and_renewed_at_each_factor() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    let response = app
        .browser
        .client
        .get(format!("{}/login", app.base_url))
        .send()
        .await
        .unwrap();
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    // Signed out, only the form's token has a cookie (there is no session yet).
    assert!(set_cookie.starts_with("staffroom_csrf="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"));
    assert!(set_cookie.contains("SameSite=Lax"));
    assert!(!set_cookie.contains("Secure"), "plain http in tests");

    let anonymous = app.browser.cookie_header();
    let password_step = app.browser.log_in(&user.email, &user.password).await;
    let session_cookie = password_step
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("staffroom="))
        .expect("the session begins when the password is accepted");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"));
    assert!(!session_cookie.contains("Secure"));
    let after_password = app.browser.cookie_header();
    app.browser
        .submit(
            "/login/two-factor",
            "/login/two-factor",
            &[("code", &user.code(1))],
        )
        .await;
    let after_code = app.browser.cookie_header();
    assert_ne!(anonymous, after_password);
    assert_ne!(after_password, after_code);
}

#[actix_web::test]
async fn under_https_the_cookie_is_secure_with_the_host_prefix_and_hsts_is_sent() {
    let smtp = SmtpServer::start().await;
    let mut settings = test_settings(&fresh_database(), smtp.port);
    settings.base_url = "https://staffroom.example".into();
    let app = spawn_with(settings, smtp).await;
    // The listener still speaks plain http on loopback; only the advertised URL is https.
    let response = reqwest::Client::new()
        .get(bound_url(&app, "/login"))
        .send()
        .await
        .unwrap();
    let set_cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set_cookie.starts_with("__Host-staffroom_csrf="),
        "{set_cookie}"
    );
    assert!(set_cookie.contains("Secure"));
    assert!(set_cookie.contains("Path=/"));
    assert!(response
        .headers()
        .get("strict-transport-security")
        .is_some());

    // The session's own cookie, once the password is accepted.
    let csrf_cookie = set_cookie.split(';').next().unwrap().to_string();
    let token = attribute_after(
        &response.text().await.unwrap(),
        "name=\"csrf_token\" value=\"",
    )
    .unwrap();
    let org = app.nhs_org();
    let amy = app.create_user(org, "amy@nhs.net");
    let signed_in = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(bound_url(&app, "/login"))
        .header("cookie", csrf_cookie)
        .form(&[
            ("email", amy.email.as_str()),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    let session_cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-staffroom="))
        .expect("the session cookie has the __Host- prefix");
    assert!(session_cookie.contains("Secure") && session_cookie.contains("Path=/"));
    assert!(session_cookie.contains("HttpOnly"));
}

fn bound_url(app: &TestApp, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", app.port)
}

#[actix_web::test]
async fn a_database_that_goes_away_answers_503_and_the_app_recovers() {
    let app = spawn_app().await;
    assert_eq!(app.browser.get("/healthz").await.status, 200);

    // Nobody may connect to the database for a while.
    app.database_reachable(false);

    assert_eq!(app.browser.get("/healthz").await.status, 503);
    let page = app.browser.get("/login").await;
    assert!(page.status == 200 || page.status == 503, "{}", page.status);
    let home = app.browser.get("/password/reset/anything").await;
    assert_eq!(home.status, 503);
    assert!(home.body.contains("Sorry, the service is unavailable"));

    app.database_reachable(true);
    assert_eq!(app.browser.get("/healthz").await.status, 200);
}

#[actix_web::test]
async fn guessing_links_is_throttled_per_address() {
    let app = spawn_app().await;

    let mut last = None;
    for i in 0..55 {
        last = Some(app.browser.get(&format!("/password/reset/guess-{i}")).await);
    }

    let last = last.unwrap();
    assert_eq!(last.status, 429);
    assert!(last.body.contains("Too many attempts"));
}

#[actix_web::test]
async fn a_session_ends_after_30_idle_minutes_and_12_hours_after_sign_in() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    app.browser
        .log_in_fully(&user, 1)
        .await
        .assert_redirect_to("/");
    assert_eq!(app.browser.get("/").await.status, 200);

    app.sql(
        "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id IS NOT NULL",
    );
    assert_eq!(
        app.browser.get("/").await.status,
        303,
        "idle for 30 minutes"
    );

    app.sql("UPDATE user_totp SET last_step = NULL");
    app.browser
        .log_in_fully(&user, 0)
        .await
        .assert_redirect_to("/");
    assert_eq!(app.browser.get("/").await.status, 200);
    app.sql("UPDATE sessions SET created_at = now() - interval '12 hours 1 minute' WHERE user_id IS NOT NULL");
    assert_eq!(
        app.browser.get("/").await.status,
        303,
        "12 hours after sign-in, however active"
    );
}

#[actix_web::test]
async fn error_pages_keep_a_signed_in_persons_header_and_switcher() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = crate::workspaces::create_workspace(&amy, org, "Ward 2").await;

    // A form whose token has gone (the CSRF middleware's refusal).
    let expired = amy
        .browser
        .post_raw(
            &format!("/workspaces/{ws}/leave"),
            &[("csrf_token", "stale")],
        )
        .await;
    assert_eq!(expired.status, 403);
    assert!(expired.body.contains("This form has expired"));
    assert!(expired.body.contains("Amy Okonkwo"), "{}", expired.body);
    assert!(expired.body.contains("Ward 2"), "the switcher is there");

    // A handler's 404 and an unknown address.
    for path in [
        format!("/workspaces/{}/settings", uuid::Uuid::new_v4()),
        "/no/such/page".to_string(),
    ] {
        let missing = amy.browser.get(&path).await;
        assert_eq!(missing.status, 404, "{path}");
        assert!(missing.body.contains("Page not found"));
        assert!(missing.body.contains("Amy Okonkwo"), "{path}");
    }

    // Signed out, the same pages carry no one's name.
    let stranger = app.new_browser();
    let missing = stranger.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert!(!missing.body.contains("Amy Okonkwo"));
    assert_eq!(app.count("SELECT count(*) FROM workspace_members"), 1);
}
