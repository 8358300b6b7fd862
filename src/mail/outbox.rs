//! Queueing mail in the caller's transaction: if the change rolls back, so does its mail.

use crate::domain::Channel;
use diesel::PgConnection;

use super::{Email, Sms};
use crate::db::models::outbox::{self, NewOutboxMessage};
use crate::error::AppResult;

pub fn enqueue(conn: &mut PgConnection, to: &str, email: &impl Email) -> AppResult<i64> {
    let subject = email.subject();
    let text = email.text_body()?;
    let html = email.html_body()?;
    Ok(outbox::insert(
        conn,
        &NewOutboxMessage {
            channel: Channel::Email,
            recipient: to,
            subject: &subject,
            text_body: &text,
            html_body: &html,
        },
    )?)
}

/// Queues a text message; the worker hands it to the SMS transport.
pub fn enqueue_sms(conn: &mut PgConnection, to: &str, sms: &impl Sms) -> AppResult<i64> {
    let text = sms.text()?;
    Ok(outbox::insert(
        conn,
        &NewOutboxMessage {
            channel: Channel::Sms,
            recipient: to,
            subject: "Text message",
            text_body: &text,
            html_body: "",
        },
    )?)
}
