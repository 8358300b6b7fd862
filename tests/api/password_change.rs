//! Changing the password while signed in: it needs the current one, emails the owner, and ends
//! the account's other sessions while this browser stays signed in.

use crate::helpers::*;

const NEW_PASSWORD: &str = "a brand new passphrase";

#[actix_web::test]
async fn changing_the_password_needs_the_current_one_and_emails_the_owner() {
    // Arrange
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    app.browser
        .log_in_fully(&user, 1)
        .await
        .assert_redirect_to("/");

    // Act: a wrong current password
    let wrong = app
        .browser
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", "not my password at all"),
                ("password", NEW_PASSWORD),
            ],
        )
        .await;

    // Assert
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("Enter your current password correctly"));
    assert!(
        wrong.body.contains("href=\"#current_password\""),
        "the error summary links to the field"
    );
    assert!(!wrong.body.contains("not my password at all"));
    assert!(
        !wrong.body.contains(NEW_PASSWORD),
        "passwords are never echoed"
    );
    assert_eq!(
        app.count("SELECT failures FROM throttles WHERE key = 'account:amy@nhs.net'"),
        1,
        "a wrong current password counts as a failure"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'password_changed'"),
        0
    );

    // Act: the right current password and a good new one
    let changed = app
        .browser
        .submit(
            "/account/password",
            "/account/password",
            &[("current_password", PASSWORD), ("password", NEW_PASSWORD)],
        )
        .await;

    // Assert
    changed.assert_redirect_to("/");
    let home = app.browser.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home
        .body
        .contains("Your password has been changed. Other devices have been signed out."));
    let notice = app.smtp.wait_for("amy@nhs.net").await;
    assert_eq!(notice.subject(), "Your Staffroom password was changed");
    assert_eq!(
        notice.link_to("/password/forgot"),
        format!("{}/password/forgot", app.base_url)
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'password_changed'"),
        1
    );
    app.new_browser()
        .log_in("amy@nhs.net", NEW_PASSWORD)
        .await
        .assert_redirect_to("/login/two-factor");
    assert_eq!(
        app.new_browser()
            .log_in("amy@nhs.net", PASSWORD)
            .await
            .status,
        422,
        "the old password no longer works"
    );
}

#[actix_web::test]
async fn changing_the_password_signs_out_other_devices_but_not_this_one() {
    // Arrange
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    let this_device = app.new_browser();
    let other_device = app.new_browser();
    this_device
        .log_in_fully(&user, 1)
        .await
        .assert_redirect_to("/");
    app.sql("UPDATE user_totp SET last_step = NULL");
    other_device
        .log_in_fully(&user, 0)
        .await
        .assert_redirect_to("/");
    assert_eq!(other_device.get("/").await.status, 200);

    // Act
    this_device
        .submit(
            "/account/password",
            "/account/password",
            &[("current_password", PASSWORD), ("password", NEW_PASSWORD)],
        )
        .await
        .assert_redirect_to("/");

    // Assert
    assert_eq!(
        this_device.get("/").await.status,
        200,
        "this browser stays signed in"
    );
    other_device
        .get("/")
        .await
        .assert_redirect_to("/login?next=%2F");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM sessions WHERE user_id = '{}'",
            user.id
        )),
        1,
        "only the fresh session of this browser is left"
    );
}

#[actix_web::test]
async fn a_weak_new_password_is_refused_beside_its_field() {
    // Arrange
    let app = spawn_app().await;
    let user = app.enrolled_user("amy@nhs.net").await;
    app.browser
        .log_in_fully(&user, 1)
        .await
        .assert_redirect_to("/");

    // Act
    let weak = app
        .browser
        .submit(
            "/account/password",
            "/account/password",
            &[("current_password", PASSWORD), ("password", "password1234")],
        )
        .await;
    let same = app
        .browser
        .submit(
            "/account/password",
            "/account/password",
            &[("current_password", PASSWORD), ("password", PASSWORD)],
        )
        .await;

    // Assert
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains("too common"));
    assert!(weak.body.contains("id=\"password-error\""));
    assert!(!weak.body.contains("id=\"current_password-error\""));
    assert_eq!(same.status, 422);
    assert!(same
        .body
        .contains("Your new password must be different from your current one"));
    assert_eq!(app.browser.get("/").await.status, 200);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'password_changed'"),
        0
    );
    assert_eq!(app.smtp.settled_count("amy@nhs.net").await, 0);
}

#[actix_web::test]
async fn the_change_password_page_needs_a_signed_in_user() {
    // Arrange
    let app = spawn_app().await;

    // Act
    let page = app.browser.get("/account/password").await;

    // Assert
    page.assert_redirect_to("/login?next=%2Faccount%2Fpassword");
}
