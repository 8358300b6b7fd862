//! Hardening against faults and attacks: the database going away under a signed-in person,
//! forwarded addresses only from trusted proxies, the development mailbox, anonymous visitors
//! costing no session row.

use crate::helpers::*;

#[actix_web::test]
async fn while_the_database_is_away_a_signed_in_page_answers_503_and_the_person_stays_signed_in() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app
        .person(org, "amy.okonkwo@nhs.net", "Amy", "Okonkwo")
        .await;
    assert_eq!(amy.browser.get("/").await.status, 200);
    let cookie = amy.browser.cookie_header();
    let csrf = amy.browser.csrf().await;

    app.database_reachable(false);
    // A form sent meanwhile: its token cannot be checked, so 503 rather than 403, and nothing
    // of it is done once the database is back.
    let sent = amy
        .browser
        .post_raw(
            &format!("/organisations/{org}/workspaces"),
            &[
                ("name", "Ward 9"),
                ("specialty", "501"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(sent.status, 503, "{}", sent.body);
    assert!(sent.body.contains("Sorry, the service is unavailable"));
    for path in ["/", "/workspaces", "/organisations"] {
        let page = amy.browser.get(path).await;
        assert_eq!(page.status, 503, "{path}: {}", page.body);
        assert!(page.body.contains("Sorry, the service is unavailable"));
        assert!(
            page.headers.get("set-cookie").is_none(),
            "no new session is handed out while the store is away"
        );
    }
    app.database_reachable(true);

    let home = amy.browser.get("/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("Amy"));
    assert_eq!(amy.browser.cookie_header(), cookie, "the same session");
    assert_eq!(
        app.count("SELECT count(*) FROM workspaces WHERE name = 'Ward 9'"),
        0
    );
}

#[actix_web::test]
async fn the_dev_mailbox_is_not_served_when_it_is_off_even_without_smtp() {
    let smtp = SmtpServer::start().await;
    let mut settings = test_settings(&fresh_database(), smtp.port);
    settings.smtp_url = None;
    settings.dev_mailbox = false;
    let app = spawn_with(settings, smtp).await;
    app.nhs_org();
    app.browser
        .sign_up("Dave", "Patel", "dave@nhs.net", PASSWORD)
        .await;

    let mailbox = app.browser.get("/dev/mailbox").await;

    assert_eq!(mailbox.status, 404);
    assert!(!mailbox.body.contains("/verify/"));
}

/// The address the latest sign-in event recorded.
fn last_sign_in_address(app: &TestApp) -> String {
    app.text(
        "SELECT coalesce(ip_address, '') FROM audit_events
          WHERE action = 'password_accepted' ORDER BY id DESC LIMIT 1",
    )
}

/// Signs in with the password, the request carrying this `X-Forwarded-For`.
async fn log_in_forwarded(app: &TestApp, email: &str, forwarded: &str) -> u16 {
    let browser = app.new_browser();
    let csrf = browser.csrf().await;
    browser
        .client
        .post(format!("{}/login", browser.base_url))
        .header("x-forwarded-for", forwarded)
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[actix_web::test]
async fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
    let smtp = SmtpServer::start().await;
    let mut settings = test_settings(&fresh_database(), smtp.port);
    settings.trusted_proxies =
        staffroom::domain::client_address::IpRange::parse_list("127.0.0.1").unwrap();
    let app = spawn_with(settings, smtp).await;
    let org = app.nhs_org();
    let amy = app.create_user(org, "amy.okonkwo@nhs.net");

    // The test talks to the app from 127.0.0.1, a trusted proxy here: the right-most hop that
    // is not a proxy is the client; what the client wrote further left is not believed.
    assert_eq!(
        log_in_forwarded(&app, &amy.email, "6.6.6.6, 198.51.100.7").await,
        303
    );
    assert_eq!(last_sign_in_address(&app), "198.51.100.7");

    // Without trusted proxies the header is ignored.
    let plain = spawn_app().await;
    let org = plain.nhs_org();
    let kim = plain.create_user(org, "kim.lee@nhs.net");
    assert_eq!(
        log_in_forwarded(&plain, &kim.email, "198.51.100.7").await,
        303
    );
    assert_eq!(last_sign_in_address(&plain), "127.0.0.1");
}
#[actix_web::test]
async fn a_signed_out_visitor_costs_no_session_row_and_their_forms_still_work() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.create_user(org, "amy.okonkwo@nhs.net");

    for _ in 0..20 {
        let visitor = app.new_browser();
        for path in ["/login", "/signup", "/password/forgot", "/"] {
            let page = visitor.get(path).await;
            assert!(page.status == 200 || page.status == 303, "{path}");
        }
    }
    assert_eq!(app.count("SELECT count(*) FROM sessions"), 0);

    // The sign-in form's token travels in a signed cookie of its own: a token from another
    // visitor, or a forged cookie, is refused.
    let visitor = app.new_browser();
    let page = visitor.get("/login").await;
    let token = page.csrf();
    let stranger = app.new_browser();
    let refused = stranger
        .log_in_with_token(&amy.email, PASSWORD, &token)
        .await;
    assert_eq!(refused.status, 403);
    let forged = app
        .new_browser()
        .client
        .post(format!("{}/login", app.base_url))
        .header("cookie", format!("staffroom_csrf={token}"))
        .form(&[
            ("email", amy.email.as_str()),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let accepted = visitor
        .log_in_with_token(&amy.email, PASSWORD, &token)
        .await;
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(
        app.count("SELECT count(*) FROM sessions"),
        1,
        "a session begins when the password is accepted"
    );
}

#[actix_web::test]
async fn fifty_parallel_wrong_passwords_for_one_account_are_fifty_attempts_and_five_are_checked() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.create_user(org, "amy.okonkwo@nhs.net");
    let mut forms = Vec::new();
    for _ in 0..50 {
        let browser = app.new_browser();
        let csrf = browser.csrf().await;
        forms.push((browser, csrf));
    }

    let attempts = forms.iter().map(|(browser, csrf)| async {
        browser
            .log_in_with_token(&amy.email, "not the password at all", csrf)
            .await
    });
    let pages = futures_util::future::join_all(attempts).await;

    let throttled = pages
        .iter()
        .filter(|p| p.body.contains("Too many attempts"))
        .count();
    // Only the five free attempts reached the password check (each audited as a failure).
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'sign_in_failed'"),
        5
    );
    assert_eq!(throttled, 45);
    // The right password now waits too, and is not checked either.
    let (browser, csrf) = &forms[0];
    let page = browser.log_in_with_token(&amy.email, PASSWORD, csrf).await;
    assert!(page.body.contains("Too many attempts"), "{}", page.status);
    assert_eq!(
        app.count("SELECT failures FROM throttles WHERE key = 'account:amy.okonkwo@nhs.net'"),
        5,
        "refused attempts are given back: waiting does not make the wait longer"
    );
}

#[actix_web::test]
async fn guessing_links_from_an_address_does_not_lock_its_people_out_of_signing_in() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.create_user(org, "amy.okonkwo@nhs.net");
    for i in 0..55 {
        app.browser.get(&format!("/password/reset/guess-{i}")).await;
    }
    assert_eq!(app.browser.get("/password/reset/guess-x").await.status, 429);

    // Same address (everyone here is 127.0.0.1), separate bucket: sign-in still works.
    let colleague = app.new_browser();
    let page = colleague.log_in(&amy.email, PASSWORD).await;
    assert_eq!(page.status, 303, "{}", page.body);
}
