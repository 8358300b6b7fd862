//! How fast the outbox worker empties a backlog of emails into a local SMTP listener, against
//! lettre's pooled SMTP transport sending the same messages alone, with the same number of
//! messages in flight, to the same listener. The worker's figure includes everything it does
//! per batch: claiming rows (FOR UPDATE SKIP LOCKED), building each message, the lease, and
//! marking them sent.
//!
//! ```sh
//! cargo run --release --example bench_outbox
//! ```
//!
//! BENCH_EMAILS (10,000) per run, BENCH_ROUNDS (3) alternating rounds of each; medians and
//! the ratio are printed. The listener is a minimal SMTP server on a loopback port (a thread
//! per connection) that accepts every message and counts it.

#[path = "support/serve.rs"]
mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::stream::{self, StreamExt};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use support::setting;

/// As many at once as the worker sends (`mail::worker`'s SENDING_AT_ONCE).
const IN_FLIGHT: usize = 4;

fn text_body(n: u64) -> String {
    format!(
        "Dear colleague {n},\n\nAmy Okonkwo has invited you to join Ward 2 Nurses on Staffroom.\n\n\
         Join: http://127.0.0.1:8080/invitations/{}\n\nThe link works for 30 days.\n\n\
         Ward 2 Nurses, East London NHS Foundation Trust\n",
        "x".repeat(43)
    )
}

fn html_body(n: u64) -> String {
    format!(
        "<!DOCTYPE html><html><body><p>Dear colleague {n},</p><p>Amy Okonkwo has invited you \
         to join <strong>Ward 2 Nurses</strong> on Staffroom.</p><p><a href=\"http://127.0.0.1:8080/invitations/{}\">\
         Join Ward 2 Nurses</a></p><p>The link works for 30 days.</p><p>Ward 2 Nurses, East \
         London NHS Foundation Trust</p></body></html>",
        "x".repeat(43)
    )
}

/// A minimal SMTP listener that accepts everything.
struct Sink {
    port: u16,
    received: Arc<AtomicU64>,
}

impl Sink {
    fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(AtomicU64::new(0));
        let counter = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    let _ = converse(stream, &counter);
                });
            }
        });
        Ok(Self { port, received })
    }
}

fn converse(stream: std::net::TcpStream, received: &AtomicU64) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    out.write_all(b"220 sink ESMTP\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => out.write_all(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")?,
            "DATA" => {
                out.write_all(b"354 go ahead\r\n")?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                }
                received.fetch_add(1, Ordering::SeqCst);
                out.write_all(b"250 queued\r\n")?;
            }
            "QUIT" => {
                out.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"250 ok\r\n")?,
        }
    }
}

fn main() -> anyhow::Result<()> {
    let emails = setting("BENCH_EMAILS", 10_000);
    let rounds = setting("BENCH_ROUNDS", 3) as usize;
    let sink = Sink::start()?;
    let (url, _cluster) = support::database("bench_outbox")?;
    let pool = staffroom::db::pool(&url, 10);
    let mut settings = staffroom::config::Settings::from_env()?;
    settings.database_url = Some(url.clone().into());
    settings.smtp_url = Some(format!("smtp://127.0.0.1:{}", sink.port).into());
    settings.mail_from = "Staffroom <no-reply@staffroom.test>".into();
    let conn = &mut PgConnection::establish(&url)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // lettre's pool and the worker's transport start tasks of their own when made.
    let _inside = runtime.enter();
    let mut raw = Vec::new();
    let mut worker = Vec::new();
    for round in 1..=rounds {
        // lettre alone.
        let before = sink.received.load(Ordering::SeqCst);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(sink.port)
            .build();
        let from: Mailbox = settings.mail_from.parse()?;
        let started = Instant::now();
        let failures = runtime.block_on(async {
            stream::iter(0..emails)
                .map(|n| {
                    let (transport, from) = (&transport, from.clone());
                    async move {
                        let message = Message::builder()
                            .from(from)
                            .to(format!("person{n}@nhs.net").parse().unwrap())
                            .subject("Amy Okonkwo invited you to join Ward 2 Nurses")
                            .multipart(MultiPart::alternative_plain_html(
                                text_body(n),
                                html_body(n),
                            ))
                            .unwrap();
                        transport.send(message).await.is_err()
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .filter(|failed| std::future::ready(*failed))
                .count()
                .await
        });
        let raw_time = started.elapsed();
        anyhow::ensure!(failures == 0, "{failures} raw sends failed");
        anyhow::ensure!(sink.received.load(Ordering::SeqCst) - before == emails);

        // The worker, from a backlog in the outbox.
        diesel::sql_query("TRUNCATE outbox CASCADE").execute(conn)?;
        diesel::sql_query(format!(
            "INSERT INTO outbox (recipient, subject, text_body, html_body)
             SELECT 'person' || g || '@nhs.net', 'Amy Okonkwo invited you to join Ward 2 Nurses',
                    $1 || g, $2 || g
             FROM generate_series(1, {emails}) g"
        ))
        .bind::<diesel::sql_types::Text, _>(text_body(0))
        .bind::<diesel::sql_types::Text, _>(html_body(0))
        .execute(conn)?;
        diesel::sql_query("VACUUM ANALYZE outbox").execute(conn)?;
        let before = sink.received.load(Ordering::SeqCst);
        let delivery = staffroom::mail::worker::Worker::new(pool.clone(), &settings)?;
        let started = Instant::now();
        runtime.block_on(async {
            loop {
                if delivery.deliver_due().await? == 0 {
                    return anyhow::Ok(());
                }
            }
        })?;
        let worker_time = started.elapsed();
        anyhow::ensure!(
            sink.received.load(Ordering::SeqCst) - before == emails,
            "the worker delivered {} of {emails}",
            sink.received.load(Ordering::SeqCst) - before
        );
        let per_second = |t: Duration| emails as f64 / t.as_secs_f64();
        println!(
            "round {round}: lettre alone {:.0}/s ({raw_time:.2?}), worker {:.0}/s ({worker_time:.2?}), ratio {:.2}",
            per_second(raw_time),
            per_second(worker_time),
            per_second(worker_time) / per_second(raw_time)
        );
        raw.push(per_second(raw_time));
        worker.push(per_second(worker_time));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (raw, worker) = (median(&mut raw), median(&mut worker));
    println!(
        "median of {rounds}: lettre alone {raw:.0} emails/s, worker {worker:.0} emails/s, ratio {:.2}x ({emails} emails, {IN_FLIGHT} in flight)",
        worker / raw
    );
    Ok(())
}
