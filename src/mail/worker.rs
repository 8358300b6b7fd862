//! The outbox worker inside `serve`: claims due messages, delivers them through lettre's SMTP
//! transport (or, with no SMTP_URL, leaves them for /dev/mailbox), and retries failures with
//! exponential back-off. A crash or an SMTP outage loses nothing: unsent rows stay due.
//!
//! A claimed batch is leased for a short while and the lease is renewed while the batch is
//! being sent, so a worker that dies mid-batch (kill -9, a lost machine) holds its mail for
//! less than `LEASE`: its successor, or another server's worker, then sends it. A live worker
//! keeps its batch however slow the SMTP server is. A batch goes out over a few pooled SMTP
//! connections at once (each recipient's mail in order), and what was sent is marked in one
//! statement. Never logged:
//! recipients, subjects, bodies.

use crate::domain::Channel;
use std::time::Duration;

use chrono::Utc;
use futures_util::stream::{self, StreamExt};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{MailTuning, Settings};
use crate::db::models::outbox::{self, OutboxMessage};
use crate::db::PgPool;
use crate::shutdown::Stop;

/// Claimed at once (one statement each way for the whole batch).
const BATCH: i64 = 50;
/// Messages in flight at once over lettre's pooled transport (a connection each): SMTP is a
/// conversation of round trips, so a few connections keep the server busy.
const SENDING_AT_ONCE: usize = 4;
/// How long a claimed batch stays this worker's without renewal.
pub const LEASE: Duration = Duration::from_secs(20);
/// How often the lease is renewed while a batch is being sent.
const RENEW_EVERY: Duration = Duration::from_secs(5);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// No SMTP configured: mail stays readable at /dev/mailbox.
    Mailbox,
}

impl Transport {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            None => Ok(Transport::Mailbox),
            Some(url) => Ok(Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())?
                    .timeout(Some(Duration::from_secs(20)))
                    .build(),
            )),
        }
    }
}

/// Sends text messages. The default keeps them in the outbox, readable at /dev/mailbox, and
/// logs them; a provider (GOV.UK Notify, say) plugs in by implementing this trait and passing
/// it to `Worker::with_sms`.
pub trait SmsTransport: Send + Sync {
    fn send<'a>(
        &'a self,
        to: &'a str,
        text: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send + 'a>>;
}

/// The default SMS transport: nothing leaves the machine.
pub struct SmsToMailbox;

impl SmsTransport for SmsToMailbox {
    fn send<'a>(
        &'a self,
        // The number is a person's (often a patient's): never in a log line.
        _to: &'a str,
        _text: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send + 'a>> {
        Box::pin(async move {
            tracing::info!("text message kept in the outbox (no SMS provider configured)");
            Ok(())
        })
    }
}

pub struct Worker {
    pool: PgPool,
    transport: Transport,
    sms: Box<dyn SmsTransport>,
    from: Mailbox,
    tuning: MailTuning,
    stop: Stop,
}

impl Worker {
    pub fn new(pool: PgPool, settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            pool,
            transport: Transport::from_settings(settings)?,
            sms: Box::new(SmsToMailbox),
            from: settings.mail_from.parse()?,
            tuning: settings.mail.clone(),
            stop: Stop::never(),
        })
    }

    /// Sends text messages through another transport.
    pub fn with_sms(mut self, sms: Box<dyn SmsTransport>) -> Self {
        self.sms = sms;
        self
    }

    /// Runs until the task is dropped.
    pub async fn run(self) {
        self.run_until(Stop::never()).await
    }

    /// Runs until `stop`: then the message being sent is finished and recorded, and the rest
    /// of the batch is released for another worker at once (see `crate::shutdown`).
    pub async fn run_until(mut self, stop: Stop) {
        self.stop = stop.clone();
        let mut stop = stop;
        while !stop.is_stopping() {
            let wait = match self.deliver_due().await {
                Ok(0) => self.tuning.poll_interval,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "mail worker: the outbox is unreachable; retrying");
                    self.tuning.poll_interval.max(Duration::from_secs(1))
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.stopped() => {}
            }
        }
        tracing::info!("mail worker stopped");
    }

    /// Delivers one batch; returns how many messages it handled. Once the worker is told to
    /// stop, the messages of the batch it has not begun are released.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let pool = self.pool.clone();
        let due = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            Ok(outbox::claim_due(&mut *pool.get()?, BATCH, lease())?)
        })
        .await??;
        let count = due.len();
        let _lease = Renewal::start(self.pool.clone(), due.iter().map(|m| m.id).collect());
        // One recipient's messages go one after another, in the order they were written (a
        // "you can now use" never arrives after the "you have been removed" that followed it);
        // different recipients' go at once.
        let mut by_recipient: Vec<Vec<OutboxMessage>> = Vec::new();
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for message in due {
            match seen.get(&message.recipient) {
                Some(&i) => by_recipient[i].push(message),
                None => {
                    seen.insert(message.recipient.clone(), by_recipient.len());
                    by_recipient.push(vec![message]);
                }
            }
        }
        let handled: Vec<anyhow::Result<usize>> = stream::iter(by_recipient)
            .map(|messages| async move {
                let mut done = 0;
                let mut rest = messages.into_iter();
                while let Some(message) = rest.next() {
                    if self.stop.is_stopping() {
                        // Not begun: another worker (or the next start) may take them now.
                        let unsent = std::iter::once(message.id).chain(rest.map(|m| m.id));
                        self.release(unsent.collect()).await;
                        break;
                    }
                    let outcome = self.deliver(&message).await;
                    if let Err(e) = self.record(&message, outcome).await {
                        self.release(rest.map(|m| m.id).collect()).await;
                        return Err(e);
                    }
                    done += 1;
                }
                Ok(done)
            })
            .buffer_unordered(SENDING_AT_ONCE)
            .collect()
            .await;
        let mut done = 0;
        for outcome in handled {
            done += outcome?;
        }
        debug_assert!(done <= count);
        Ok(done)
    }

    /// Gives back claimed messages that were not attempted (best effort: if the database is
    /// away their lease simply runs out).
    async fn release(&self, ids: Vec<i64>) {
        if ids.is_empty() {
            return;
        }
        let pool = self.pool.clone();
        let count = ids.len();
        let released = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            Ok(outbox::release(&mut *pool.get()?, &ids)?)
        })
        .await;
        match released {
            Ok(Ok(n)) => tracing::info!(released = n, "mail worker: unsent messages released"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, count, "mail worker: could not release messages; their lease will run out")
            }
            Err(e) => tracing::warn!(error = %e, "mail worker: release failed"),
        }
    }

    async fn deliver(&self, message: &OutboxMessage) -> anyhow::Result<()> {
        if message.channel == Channel::Sms {
            return self.sms.send(&message.recipient, &message.text_body).await;
        }
        match &self.transport {
            Transport::Mailbox => Ok(()),
            Transport::Smtp(smtp) => {
                let email = build_email(&self.from, message)?;
                smtp.send(email).await?;
                Ok(())
            }
        }
    }

    async fn record(
        &self,
        message: &OutboxMessage,
        outcome: anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let pool = self.pool.clone();
        let id = message.id;
        let attempts = message.attempts + 1;
        let next = match &outcome {
            Ok(()) => None,
            Err(e) => {
                let retry_at = (attempts < self.tuning.max_attempts)
                    .then(|| Utc::now() + backoff(&self.tuning, attempts));
                // An SMTP server's refusal often quotes the recipient's address.
                let error = crate::telemetry::redact_personal(&format!("{e:#}"));
                tracing::warn!(id, attempts, error = %error, retry = retry_at.is_some(), "mail delivery failed");
                Some((e.to_string(), retry_at))
            }
        };
        // A message the SMTP server accepted must be recorded as sent, or it would go again:
        // while the database is away (a failover, a restart) keep trying, for as long as the
        // lease would hold it (when stopping, the shutdown's bound cuts this short).
        let started = std::time::Instant::now();
        loop {
            let (pool, next) = (pool.clone(), next.clone());
            let recorded = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let conn = &mut *pool.get()?;
                match next {
                    None => outbox::mark_sent(conn, id)?,
                    Some((error, retry_at)) => {
                        outbox::mark_failed_attempt(conn, id, &error, retry_at)?
                    }
                };
                Ok(())
            })
            .await?;
            match recorded {
                Ok(()) => return Ok(()),
                Err(e) if started.elapsed() < LEASE => {
                    tracing::warn!(id, error = %e, "mail worker: cannot record a delivery yet; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn lease() -> chrono::Duration {
    chrono::Duration::from_std(LEASE).expect("a short lease")
}

/// Renews the lease on a batch until dropped: when the worker finishes the batch, or when its
/// task is dropped mid-batch (the renewal then stops with it, as it would with the process).
struct Renewal(tokio::task::JoinHandle<()>);

impl Renewal {
    fn start(pool: PgPool, ids: Vec<i64>) -> Self {
        Self(tokio::spawn(async move {
            if ids.is_empty() {
                return;
            }
            let ids = std::sync::Arc::new(ids);
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                let (pool, ids) = (pool.clone(), ids.clone());
                let renewed = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
                    Ok(outbox::renew(&mut *pool.get()?, &ids, lease())?)
                })
                .await;
                match renewed {
                    Ok(Ok(0)) => return,
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "mail worker: the lease could not be renewed")
                    }
                    Err(e) => tracing::warn!(error = %e, "mail worker: lease renewal failed"),
                }
            }
        }))
    }
}

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// base × 2^(attempts−1), at most `retry_max`.
fn backoff(tuning: &MailTuning, attempts: i32) -> chrono::Duration {
    let factor = 2u32.saturating_pow((attempts - 1).clamp(0, 20) as u32);
    let wait = tuning
        .retry_base
        .saturating_mul(factor)
        .min(tuning.retry_max);
    chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::minutes(30))
}

/// Both parts are sent 8-bit, not quoted-printable, so that every link stays whole on one line
/// of the plain-text part (lettre would choose quoted-printable for lines over 76 characters,
/// which breaks long links). SMTP allows 8-bit lines up to 998 bytes; longer ones fall back.
fn build_email(from: &Mailbox, message: &OutboxMessage) -> anyhow::Result<Message> {
    let part = |content_type: ContentType, text: &str| {
        let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
        let body = if crlf.split("\r\n").all(|line| line.len() <= 998) {
            Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
        } else {
            Body::new(text.to_string())
        };
        SinglePart::builder().header(content_type).body(body)
    };
    Ok(Message::builder()
        .from(from.clone())
        .to(message.recipient.parse()?)
        .subject(&message.subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(part(ContentType::TEXT_PLAIN, &message.text_body))
                .singlepart(part(ContentType::TEXT_HTML, &message.html_body)),
        )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_the_cap() {
        let tuning = MailTuning {
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(60),
            ..MailTuning::default()
        };
        assert_eq!(backoff(&tuning, 1).num_seconds(), 10);
        assert_eq!(backoff(&tuning, 2).num_seconds(), 20);
        assert_eq!(backoff(&tuning, 3).num_seconds(), 40);
        assert_eq!(backoff(&tuning, 9).num_seconds(), 60);
    }
}
