//! The outbox: mail survives an SMTP outage and is delivered once the server is back.

use crate::helpers::*;

#[actix_web::test]
async fn mail_is_delivered_after_the_smtp_listener_was_down_for_a_while() {
    // A port with nothing listening on it, for now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let idle = SmtpServer::start().await;
    let app = spawn_with(test_settings(&fresh_database(), port), idle).await;
    app.nhs_org();

    app.browser
        .sign_up("Dave", "Patel", "dave@nhs.net", PASSWORD)
        .await
        .assert_redirect_to("/signup/check-email");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        app.count("SELECT max(attempts) FROM outbox") >= 2,
        "the worker retried"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND last_error IS NOT NULL"),
        1
    );

    let smtp = SmtpServer::start_on(port).await;
    let mail = smtp.wait_for("dave@nhs.net").await;

    assert_eq!(mail.subject(), "Confirm your email address for Staffroom");
    assert_eq!(
        smtp.settled_count("dave@nhs.net").await,
        1,
        "delivered once"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"),
        1
    );
}

#[actix_web::test]
async fn with_no_smtp_server_mail_is_shown_at_the_dev_mailbox_with_clickable_links() {
    let smtp = SmtpServer::start().await;
    let mut settings = test_settings(&fresh_database(), smtp.port);
    settings.smtp_url = None;
    settings.dev_mailbox = true;
    let app = spawn_with(settings, smtp).await;
    app.nhs_org();
    app.browser
        .sign_up("Dave", "Patel", "dave@nhs.net", PASSWORD)
        .await;

    let mailbox = app.browser.get("/dev/mailbox").await;

    assert_eq!(mailbox.status, 200);
    assert!(mailbox
        .body
        .contains("Confirm your email address for Staffroom"));
    let href = attribute_after(&mailbox.body, "<a href=\"").expect("a clickable link");
    assert!(
        href.starts_with(&format!("{}/verify/", app.base_url)),
        "{href}"
    );
    assert_eq!(app.browser.get(&href).await.status, 200);
}

#[actix_web::test]
async fn the_dev_mailbox_is_not_served_when_smtp_is_configured() {
    let app = spawn_app().await;
    assert_eq!(app.browser.get("/dev/mailbox").await.status, 404);
}
