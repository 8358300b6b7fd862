//! Sign-up, email verification, password rules, password reset and first-run setup.

use crate::helpers::*;

#[actix_web::test]
async fn sign_up_sends_a_verification_email_whose_plain_text_part_holds_the_absolute_link() {
    let app = spawn_app().await;
    app.nhs_org();

    let page = app
        .browser
        .sign_up("Dave", "Patel", "dave.patel@nhs.net", PASSWORD)
        .await;

    page.assert_redirect_to("/signup/check-email");
    let mail = app.smtp.wait_for("dave.patel@nhs.net").await;
    assert_eq!(mail.subject(), "Confirm your email address for Staffroom");
    let link = mail.link_to("/verify/");
    assert!(
        link.starts_with(&format!("{}/verify/", app.base_url)),
        "{link}"
    );
    assert!(mail.part("text/html").contains(&format!("href=\"{link}\"")));
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'dave.patel@nhs.net' AND email_verified_at IS NULL"), 1);
}

#[actix_web::test]
async fn get_on_the_verification_link_does_not_consume_it_and_post_does_once() {
    let app = spawn_app().await;
    app.nhs_org();
    app.browser
        .sign_up("Dave", "Patel", "dave.patel@nhs.net", PASSWORD)
        .await;
    let link = app
        .smtp
        .wait_for("dave.patel@nhs.net")
        .await
        .link_to("/verify/");

    // A mail scanner follows the link twice: nothing happens.
    assert_eq!(app.browser.get(&link).await.status, 200);
    let page = app.browser.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Confirm email address"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL"),
        0
    );

    let confirmed = app.browser.confirm_address(&link, PASSWORD).await;
    confirmed.assert_redirect_to("/login");
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"),
        0,
        "the link signs nobody in"
    );

    let again = app.browser.post(&link, &[]).await;
    assert_eq!(again.status, 410);
    assert!(again.body.contains("This link has already been used"));
}

#[actix_web::test]
async fn an_expired_verification_link_is_refused() {
    let app = spawn_app().await;
    app.nhs_org();
    app.browser
        .sign_up("Dave", "Patel", "dave.patel@nhs.net", PASSWORD)
        .await;
    let link = app
        .smtp
        .wait_for("dave.patel@nhs.net")
        .await
        .link_to("/verify/");
    app.sql("UPDATE one_time_tokens SET created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour'");

    let page = app.browser.get(&link).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("This link has expired"));
    let post = app.browser.post(&link, &[]).await;
    assert_eq!(post.status, 410);
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email_verified_at IS NOT NULL"),
        0
    );
}

#[actix_web::test]
async fn a_gmail_address_is_refused_with_the_typed_values_kept() {
    let app = spawn_app().await;
    app.nhs_org();

    let page = app
        .browser
        .sign_up("Dave", "Patel", "dave@gmail.com", PASSWORD)
        .await;

    assert_eq!(page.status, 422);
    assert!(page.body.contains("Enter your NHS email address"));
    assert!(page.body.contains("value=\"Dave\""));
    assert!(page.body.contains("value=\"Patel\""));
    assert!(page.body.contains("value=\"dave@gmail.com\""));
    assert!(
        page.body.contains("href=\"#email\""),
        "the error summary links to the field"
    );
    assert!(
        !page.body.contains(PASSWORD),
        "the password is never echoed"
    );
    assert_eq!(app.count("SELECT count(*) FROM users"), 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox"), 0);
}

#[actix_web::test]
async fn a_subdomain_of_an_allowed_domain_is_admitted() {
    let app = spawn_app().await;
    app.nhs_org();
    app.browser
        .sign_up("Kim", "Lee", "kim.lee@elft.nhs.uk", PASSWORD)
        .await
        .assert_redirect_to("/signup/check-email");
    app.smtp.wait_for("kim.lee@elft.nhs.uk").await;
}

#[actix_web::test]
async fn a_five_character_and_a_common_password_are_refused() {
    let app = spawn_app().await;
    app.nhs_org();

    let short = app
        .browser
        .sign_up("Dave", "Patel", "dave.patel@nhs.net", "abcde")
        .await;
    assert_eq!(short.status, 422);
    assert!(short
        .body
        .contains("Password must be 12 characters or more"));

    let common = app
        .browser
        .sign_up("Dave", "Patel", "dave.patel@nhs.net", "password1234")
        .await;
    assert_eq!(common.status, 422);
    assert!(common.body.contains("too common"));

    let personal = app
        .browser
        .sign_up("Dave", "Patel", "dave.patel@nhs.net", "patel lighthouse 9")
        .await;
    assert_eq!(personal.status, 422);
    assert!(personal
        .body
        .contains("must not include your name or email"));
    assert_eq!(app.count("SELECT count(*) FROM users"), 0);
}

#[actix_web::test]
async fn signing_up_with_an_address_that_has_an_account_answers_the_same_and_emails_the_owner() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    app.create_user(org, "amy@nhs.net");
    let stranger = app.new_browser();

    let existing = stranger
        .sign_up("Eve", "Mallory", "AMY@nhs.net", "a different passphrase")
        .await;
    let fresh = app
        .browser
        .sign_up("Dave", "Patel", "dave@nhs.net", PASSWORD)
        .await;

    assert_eq!(existing.status, fresh.status);
    assert_eq!(existing.location, fresh.location);
    let mail = app.smtp.wait_for("amy@nhs.net").await;
    assert_eq!(mail.subject(), "You already have a Staffroom account");
    assert!(mail.links().iter().all(|l| !l.contains("/verify/")));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'amy@nhs.net'"),
        1
    );
    // The stored password was not touched.
    app.new_browser()
        .log_in("amy@nhs.net", PASSWORD)
        .await
        .assert_redirect_to("/account/two-factor/setup");
}

#[actix_web::test]
async fn a_forgotten_password_is_reset_once_and_ends_every_session() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    let signed_in = app.new_browser();
    signed_in
        .log_in_fully(&user, 1)
        .await
        .assert_redirect_to("/");
    assert_eq!(signed_in.get("/").await.status, 200);

    let unknown = app
        .browser
        .submit(
            "/password/forgot",
            "/password/forgot",
            &[("email", "nobody@nhs.net")],
        )
        .await;
    let known = app
        .browser
        .submit(
            "/password/forgot",
            "/password/forgot",
            &[("email", "amy@nhs.net")],
        )
        .await;
    assert_eq!(unknown.status, known.status);
    assert_eq!(unknown.location, known.location);

    let link = app
        .smtp
        .wait_for("amy@nhs.net")
        .await
        .link_to("/password/reset/");
    let refused = app
        .browser
        .submit(&link, &link, &[("password", "short")])
        .await;
    assert_eq!(refused.status, 422);
    app.browser
        .submit(&link, &link, &[("password", "a brand new passphrase")])
        .await
        .assert_redirect_to("/login");

    assert_eq!(
        signed_in.get("/").await.status,
        303,
        "the other session ended"
    );
    assert_eq!(
        app.browser
            .post(&link, &[("password", "another new passphrase")])
            .await
            .status,
        410
    );
    let notice = app.smtp.wait_for_nth("amy@nhs.net", 2).await;
    assert_eq!(notice.subject(), "Your Staffroom password was changed");
    app.new_browser()
        .log_in("amy@nhs.net", "a brand new passphrase")
        .await
        .assert_redirect_to("/login/two-factor");
}

#[actix_web::test]
async fn the_setup_link_creates_the_first_organisation_and_its_trust_administrator_once() {
    let app = spawn_app().await;
    let link = staffroom::web::setup::issue_link_if_empty(&app.pool, &app.base_url)
        .unwrap()
        .expect("no users yet");

    let form = app.browser.get(&link).await;
    assert_eq!(form.status, 200);
    let bad = app
        .browser
        .submit(
            &link,
            &link,
            &[
                ("organisation_name", "Barts Health"),
                ("domains", "nhs.net"),
                ("first_name", "Sam"),
                ("surname", "Hughes"),
                ("email", "sam@gmail.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("value=\"Barts Health\""));

    let done = app
        .browser
        .submit(
            &link,
            &link,
            &[
                ("organisation_name", "Barts Health"),
                ("domains", "nhs.net, nhs.uk"),
                ("first_name", "Sam"),
                ("surname", "Hughes"),
                ("email", "sam.hughes@nhs.net"),
                ("password", PASSWORD),
            ],
        )
        .await;
    done.assert_redirect_to("/login");
    assert_eq!(
        app.count("SELECT count(*) FROM organisations WHERE name = 'Barts Health'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM role_assignments ra JOIN roles r ON r.id = ra.role_id JOIN users u ON u.id = ra.user_id WHERE r.name = 'Trust administrator' AND u.email = 'sam.hughes@nhs.net'"),
        1
    );
    assert_eq!(
        app.browser.get(&link).await.status,
        410,
        "the link works once"
    );
    assert!(
        staffroom::web::setup::issue_link_if_empty(&app.pool, &app.base_url)
            .unwrap()
            .is_none()
    );
}

#[actix_web::test]
async fn a_password_reset_also_ends_a_session_still_waiting_for_its_second_factor() {
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    let attacker = app.new_browser();
    attacker
        .log_in(&user.email, &user.password)
        .await
        .assert_redirect_to("/login/two-factor");

    app.browser
        .submit(
            "/password/forgot",
            "/password/forgot",
            &[("email", "amy@nhs.net")],
        )
        .await;
    let link = app
        .smtp
        .wait_for("amy@nhs.net")
        .await
        .link_to("/password/reset/");
    app.browser
        .submit(&link, &link, &[("password", "a brand new passphrase")])
        .await
        .assert_redirect_to("/login");

    let after = attacker.get("/login/two-factor").await;
    after.assert_redirect_to("/login");
}
