//! What a signed-out visitor can make the server do, as an attacker would try it: mail bombing
//! through sign-up, password reset, sign-ins to an unconfirmed account and "ask for a new
//! invitation"; floods of argon2 hashes; signing up first with a colleague's address to take
//! their account over; and inviters learning who has an account.

use futures_util::future::join_all;

use crate::helpers::*;
use crate::workspaces::{create_workspace, join_approved, users_page};

/// At most this many emails of one kind to one address an hour (`throttle`).
const PER_RECIPIENT: usize = 3;

/// `n` signed-out browsers, each with the CSRF token of its own sign-up page.
async fn visitors(app: &TestApp, n: usize) -> Vec<(Browser, String)> {
    let mut visitors = Vec::new();
    for _ in 0..n {
        let browser = app.new_browser();
        let csrf = browser.csrf().await;
        visitors.push((browser, csrf));
    }
    visitors
}

fn outbox_to(app: &TestApp, address: &str) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM outbox WHERE recipient = '{address}'"
    ))
}

#[actix_web::test]
async fn twenty_parallel_password_reset_requests_for_one_address_send_three_emails_and_look_normal()
{
    let app = spawn_app().await;
    let org = app.nhs_org();
    app.create_user(org, "amy@nhs.net");
    let visitors = visitors(&app, 20).await;

    let requests = visitors.iter().map(|(browser, csrf)| async move {
        browser
            .post_raw(
                "/password/forgot",
                &[("email", "amy@nhs.net"), ("csrf_token", csrf)],
            )
            .await
    });
    let pages = join_all(requests).await;

    // Every request answers as a normal one does: the visitor cannot tell which were mailed.
    for page in &pages {
        page.assert_redirect_to("/password/forgot/check-email");
    }
    assert_eq!(outbox_to(&app, "amy@nhs.net"), PER_RECIPIENT as i64);
    app.smtp.wait_for_nth("amy@nhs.net", PER_RECIPIENT).await;
    assert_eq!(app.smtp.settled_count("amy@nhs.net").await, PER_RECIPIENT);
    // An address with no account is counted the same way, so the count reveals nothing.
    for (browser, csrf) in &visitors[..4] {
        browser
            .post_raw(
                "/password/forgot",
                &[("email", "nobody@nhs.net"), ("csrf_token", csrf)],
            )
            .await
            .assert_redirect_to("/password/forgot/check-email");
    }
    assert_eq!(
        app.count("SELECT failures FROM throttles WHERE key = 'mail-reset:nobody@nhs.net'"),
        4
    );
}

#[actix_web::test]
async fn twenty_parallel_sign_ups_for_one_address_hash_and_mail_three_times_and_look_normal() {
    let app = spawn_app().await;
    app.nhs_org();
    let visitors = visitors(&app, 20).await;

    let sign_ups = visitors
        .iter()
        .enumerate()
        .map(|(i, (browser, csrf))| async move {
            let password = format!("attempt number {i} of twenty");
            browser
                .post_raw(
                    "/signup",
                    &[
                        ("first_name", "Dave"),
                        ("surname", "Patel"),
                        ("email", "dave@nhs.net"),
                        ("password", &password),
                        ("csrf_token", csrf),
                    ],
                )
                .await
        });
    let pages = join_all(sign_ups).await;

    for page in &pages {
        page.assert_redirect_to("/signup/check-email");
    }
    // Each audited sign-up is one hash; the others were refused before hashing.
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_events
              WHERE action IN ('sign_up', 'sign_up_unconfirmed_account')"
        ),
        PER_RECIPIENT as i64
    );
    assert_eq!(app.count("SELECT count(*) FROM users"), 1);
    assert_eq!(outbox_to(&app, "dave@nhs.net"), PER_RECIPIENT as i64);

    // The owner of an existing address is not mail-bombed with "you already have an account".
    let org = app.nhs_org();
    app.create_user(org, "amy@nhs.net");
    for (browser, csrf) in &visitors[..6] {
        browser
            .post_raw(
                "/signup",
                &[
                    ("first_name", "Eve"),
                    ("surname", "Mallory"),
                    ("email", "amy@nhs.net"),
                    ("password", "a different passphrase"),
                    ("csrf_token", csrf),
                ],
            )
            .await
            .assert_redirect_to("/signup/check-email");
    }
    assert_eq!(outbox_to(&app, "amy@nhs.net"), PER_RECIPIENT as i64);
}

/// Sign-up as a visitor behind a trusted proxy, from `client`.
async fn sign_up_from(browser: &Browser, csrf: &str, client: &str, email: &str) -> Page {
    let response = browser
        .client
        .post(format!("{}/signup", browser.base_url))
        .header("x-forwarded-for", client)
        .form(&[
            ("first_name", "Kim"),
            ("surname", "Lee"),
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", csrf),
        ])
        .send()
        .await
        .unwrap();
    Page {
        status: response.status().as_u16(),
        location: response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string()),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

#[actix_web::test]
async fn a_network_that_signed_up_its_hour_s_worth_hashes_no_more_and_is_told_to_try_later() {
    let smtp = SmtpServer::start().await;
    let mut settings = test_settings(&fresh_database(), smtp.port);
    settings.trusted_proxies =
        staffroom::domain::client_address::IpRange::parse_list("127.0.0.1").unwrap();
    let app = spawn_with(settings, smtp).await;
    app.nhs_org();
    // This /64 made 295 of its 300 sign-ups this hour; its devices rotate addresses inside it.
    app.sql(
        "INSERT INTO throttles (key, failures, last_failure_at)
         VALUES ('sign-up:2001:db8:aa:bb::/64', 295, now() - interval '10 minutes')",
    );
    let visitors = visitors(&app, 20).await;

    let sign_ups = visitors
        .iter()
        .enumerate()
        .map(|(i, (browser, csrf))| async move {
            let client = format!("2001:db8:aa:bb::{:x}", i + 1);
            sign_up_from(browser, csrf, &client, &format!("person{i}@nhs.net")).await
        });
    let pages = join_all(sign_ups).await;

    let created = pages.iter().filter(|p| p.status == 303).count();
    let refused: Vec<&Page> = pages.iter().filter(|p| p.status == 429).collect();
    assert_eq!(created, 5, "only what was left of the hour");
    assert_eq!(refused.len(), 15);
    for page in &refused {
        assert!(page
            .body
            .contains("Too many accounts have been created from your network"));
        assert!(
            page.body.contains("value=\"Kim\""),
            "what was typed is kept"
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM users"), 5, "five hashes");
    // Another network is not affected.
    let (browser, csrf) = &visitors[0];
    sign_up_from(browser, csrf, "198.51.100.7", "other@nhs.net")
        .await
        .assert_redirect_to("/signup/check-email");
}

#[actix_web::test]
async fn sign_ins_to_an_unconfirmed_account_resend_its_link_only_a_few_times_an_hour() {
    let app = spawn_app().await;
    app.nhs_org();
    // Eve signed up with Dave's address; each sign-in with her password would mail Dave.
    app.browser
        .sign_up("Dave", "Patel", "dave@nhs.net", "eve knows this one")
        .await;

    let mut pages = Vec::new();
    for _ in 0..6 {
        pages.push(
            app.browser
                .log_in("dave@nhs.net", "eve knows this one")
                .await,
        );
    }

    assert!(pages.iter().all(|p| p.status == 403));
    assert!(pages[0].body.contains("We have sent you a new link"));
    assert!(pages[5]
        .body
        .contains("use the newest one, or try again in an hour"));
    assert_eq!(outbox_to(&app, "dave@nhs.net"), PER_RECIPIENT as i64);
}

#[actix_web::test]
async fn a_stranger_who_signs_up_first_with_a_colleagues_address_never_gets_into_the_account() {
    let app = spawn_app().await;
    app.nhs_org();
    let eve = app.new_browser();
    eve.sign_up("Dave", "Patel", "dave@nhs.net", "a stranger's own words")
        .await
        .assert_redirect_to("/signup/check-email");
    // Her sign-in re-sends the link to Dave's mailbox.
    assert_eq!(
        eve.log_in("dave@nhs.net", "a stranger's own words")
            .await
            .status,
        403
    );
    let link = app
        .smtp
        .wait_for_nth("dave@nhs.net", 2)
        .await
        .link_to("/verify/");

    // Dave opens the newest link: the page asks for a password, and pressing the button
    // without one confirms nothing and leaves the link working.
    let form = app.browser.get(&link).await;
    assert!(form.body.contains("name=\"password\""), "{}", form.body);
    let blank = app.browser.confirm_address(&link, "").await;
    assert_eq!(blank.status, 422);
    assert!(blank.body.contains("Enter a password"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL"),
        0
    );
    app.browser
        .confirm_address(&link, "the mailbox owner's choice")
        .await
        .assert_redirect_to("/login");

    // Eve's password no longer opens the account; Dave's does, on to enrolling his own
    // authenticator.
    let refused = eve.log_in("dave@nhs.net", "a stranger's own words").await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    app.new_browser()
        .log_in("dave@nhs.net", "the mailbox owner's choice")
        .await
        .assert_redirect_to("/account/two-factor/setup");
}

#[actix_web::test]
async fn signing_up_again_for_an_unconfirmed_address_replaces_the_password_and_kills_old_links() {
    let app = spawn_app().await;
    app.nhs_org();
    let eve = app.new_browser();
    eve.sign_up("Eve", "Mallory", "dave@nhs.net", "a stranger's own words")
        .await;
    let eves_link = app.smtp.wait_for("dave@nhs.net").await.link_to("/verify/");

    app.browser
        .sign_up(
            "Dave",
            "Patel",
            "dave@nhs.net",
            "the mailbox owner's choice",
        )
        .await
        .assert_redirect_to("/signup/check-email");

    let newest = app.smtp.wait_for_nth("dave@nhs.net", 2).await;
    assert!(newest.text().contains("Dave"), "{}", newest.text());
    assert_eq!(
        app.text("SELECT first_name || ' ' || surname FROM users"),
        "Dave Patel"
    );
    let dead = app
        .browser
        .post(&eves_link, &[("password", "whatever passphrase")])
        .await;
    assert_eq!(dead.status, 410, "the earlier link stopped working");
    // Even before the address is confirmed, the first password is gone.
    let page = eve.log_in("dave@nhs.net", "a stranger's own words").await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert_eq!(app.count("SELECT count(*) FROM users"), 1);
}

#[actix_web::test]
async fn asking_for_new_invitations_on_dead_links_mails_each_admin_a_few_times_an_hour_at_most() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    // Five invitations, all rescinded: five dead links that may each ask once a day.
    let mut links = Vec::new();
    for i in 0..5 {
        let address = format!("person{i}@nhs.net");
        amy.browser
            .post(
                &format!("/workspaces/{ws}/invitations"),
                &[("emails", address.as_str()), ("role", "member")],
            )
            .await;
        let mail = app.smtp.wait_for(&address).await;
        links.push(mail.link_to("/invitations/"));
    }
    app.sql("UPDATE invitations SET rescinded_at = now()");
    let before = outbox_to(&app, "amy@nhs.net");

    let visitor = app.new_browser();
    for link in &links {
        let page = visitor.submit(link, &format!("{link}/ask"), &[]).await;
        assert_eq!(page.status, 303, "{}", page.body);
    }

    assert_eq!(
        outbox_to(&app, "amy@nhs.net") - before,
        PER_RECIPIENT as i64
    );
}

#[actix_web::test]
async fn a_member_inviting_cannot_tell_an_account_elsewhere_from_no_account() {
    // Moxo's rule (PRODUCT.md): a member who is not an admin adds only colleagues with an
    // account in the organisation, so that much they learn; an account anywhere else looks
    // exactly like no account at all.
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    let elsewhere = app.create_org("Barts Health", &["nhs.net"]);
    app.create_named_user(elsewhere, "dave@nhs.net", "Dave", "Patel");
    let ws = create_workspace(&amy, org, "Ward 2 Nurses").await;
    join_approved(&amy, &kim, &ws).await;

    let invite = kim
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[
                ("emails", "dave@nhs.net\nnew.person@nhs.net"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(invite.status, 303, "{}", invite.body);
    let results = kim.browser.get(&users_page(&ws)).await.body;

    let line = |address: &str| {
        let start = results
            .find(&format!("<strong>{address}</strong>"))
            .unwrap_or_else(|| panic!("no result for {address}:\n{results}"));
        let rest = &results[start + address.len() + 17..];
        rest[..rest.find("</li>").unwrap_or(rest.len())].to_string()
    };
    assert_eq!(line("dave@nhs.net"), line("new.person@nhs.net"));
    assert!(!results.contains("already have an account"));

    // The workspace's admin may know: she is told they will see it in the app too.
    app.create_named_user(org, "lee@nhs.net", "Lee", "Jones");
    let by_admin = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/invitations"),
            &[("emails", "lee@nhs.net"), ("role", "member")],
        )
        .await;
    assert_eq!(by_admin.status, 303);
    let results = amy.browser.get(&users_page(&ws)).await.body;
    assert!(results.contains("They already have an account, so they also see it in Staffroom"));
}

#[actix_web::test]
async fn twenty_parallel_sign_ins_never_run_more_hashes_at_once_than_the_bound() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let mut people = Vec::new();
    for i in 0..20 {
        let user = app.create_user(org, &format!("person{i}@nhs.net"));
        let browser = app.new_browser();
        let csrf = browser.csrf().await;
        people.push((user, browser, csrf));
    }

    let sign_ins = people
        .iter()
        .map(|(user, browser, csrf)| browser.log_in_with_token(&user.email, PASSWORD, csrf));
    let pages = join_all(sign_ins).await;

    for page in &pages {
        page.assert_redirect_to("/account/two-factor/setup");
    }
    let (bound, peak) = staffroom::auth::password::hashing_bound();
    assert!(
        peak <= bound,
        "{peak} hashes ran at once; the bound is {bound}"
    );
    // Twenty requests on eight connections did run side by side, up to the bound.
    assert!(peak >= bound.min(2), "{peak}");
}
