//! The outbox: mail survives an SMTP outage and a worker that dies mid-batch, and is delivered
//! once the server is back or the dead worker's short lease has run out.

use std::time::Duration;

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

/// Queues an email to each address straight into the outbox.
fn queue(pool: &staffroom::db::PgPool, addresses: &[&str]) {
    let conn = &mut *pool.get().unwrap();
    for to in addresses {
        let email = staffroom::mail::messages::VerifyEmail {
            first_name: "Amy".into(),
            link: "http://staffroom.test/verify/not-a-real-token".into(),
        };
        staffroom::mail::enqueue(conn, to, &email).unwrap();
    }
}

fn count(pool: &staffroom::db::PgPool, query: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT ({query})::bigint AS n"))
        .get_result::<Count>(&mut *pool.get().unwrap())
        .unwrap()
        .n
}

/// An SMTP server that takes connections and never says a word: a worker sending to it is
/// stuck in the middle of its batch.
async fn silent_smtp_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    actix_web::rt::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    port
}

#[actix_web::test]
async fn mail_a_worker_claimed_before_it_died_goes_out_from_its_successor_well_within_a_minute() {
    use staffroom::mail::worker::{Worker, LEASE};
    let database = fresh_database();
    let pool = staffroom::db::pool(&database, 4);
    queue(&pool, &["amy@nhs.net", "dave@nhs.net"]);
    let stuck = Worker::new(
        pool.clone(),
        &test_settings(&database, silent_smtp_port().await),
    )
    .unwrap();

    // The worker claims the batch and dies mid-send (its task dropped, as with kill -9:
    // nothing of it runs any more, its lease renewal included).
    let died = tokio::time::timeout(Duration::from_secs(2), stuck.deliver_due()).await;
    assert!(died.is_err(), "it was still sending");
    drop(stuck);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE locked_until > now() AND sent_at IS NULL"
        ),
        2,
        "the batch is left claimed"
    );

    let smtp = SmtpServer::start().await;
    let successor = Worker::new(pool.clone(), &test_settings(&database, smtp.port)).unwrap();
    let started = std::time::Instant::now();
    // While the lease runs the batch is nobody else's: a live worker is never doubled.
    assert_eq!(successor.deliver_due().await.unwrap(), 0);
    let running = actix_web::rt::spawn(successor.run());
    while smtp.received().len() < 2 && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let waited = started.elapsed();
    assert_eq!(smtp.received().len(), 2, "both sent, after {waited:?}");
    assert!(waited <= LEASE + Duration::from_secs(3), "{waited:?}");
    assert_eq!(smtp.settled_count("amy@nhs.net").await, 1, "sent once");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
        ),
        2
    );
    running.abort();
}

#[actix_web::test]
async fn a_worker_still_sending_keeps_its_batch_beyond_the_first_lease() {
    use staffroom::mail::worker::{Worker, LEASE};
    let database = fresh_database();
    let pool = staffroom::db::pool(&database, 4);
    queue(&pool, &["amy@nhs.net"]);
    let slow = Worker::new(
        pool.clone(),
        &test_settings(&database, silent_smtp_port().await),
    )
    .unwrap();
    let sending = actix_web::rt::spawn(async move { slow.deliver_due().await.map(|_| ()) });

    tokio::time::sleep(Duration::from_secs(13)).await;

    // The first lease would end within LEASE - 13 s (7); it was renewed while sending.
    let left = count(
        &pool,
        "SELECT extract(epoch FROM locked_until - now())::bigint FROM outbox",
    );
    assert!(
        LEASE.as_secs() < 13 + 10,
        "the check below needs a short lease"
    );
    assert!(left >= 10, "{left} s left");
    let other = Worker::new(
        pool.clone(),
        &test_settings(&database, SmtpServer::start().await.port),
    )
    .unwrap();
    assert_eq!(
        other.deliver_due().await.unwrap(),
        0,
        "not taken from a live worker"
    );
    sending.abort();
}
