//! Queueing mail in the caller's transaction: if the change rolls back, so does its mail.

use diesel::PgConnection;

use super::Email;
use crate::db::models::outbox::{self, NewOutboxMessage};
use crate::error::AppResult;

pub fn enqueue(conn: &mut PgConnection, to: &str, email: &impl Email) -> AppResult<i64> {
    let subject = email.subject();
    let text = email.text_body()?;
    let html = email.html_body()?;
    Ok(outbox::insert(
        conn,
        &NewOutboxMessage {
            channel: "email",
            recipient: to,
            subject: &subject,
            text_body: &text,
            html_body: &html,
        },
    )?)
}
