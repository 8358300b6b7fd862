//! `/dev/mailbox`: with no SMTP_URL set, mail stays in the outbox and is read here, links
//! clickable. Answers 404 whenever SMTP is configured.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::TypedSession;
use crate::db::models::outbox::{self, OutboxMessage};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::layout::Layout;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/dev/mailbox", web::get().to(mailbox_page));
}

#[derive(Template)]
#[template(path = "dev/mailbox.html")]
struct MailboxPage {
    layout: Layout,
    messages: Vec<ShownMessage>,
}

struct ShownMessage {
    id: i64,
    recipient: String,
    subject: String,
    created_at: String,
    status: &'static str,
    /// HTML-escaped text with its links made clickable.
    body_html: String,
}

async fn mailbox_page(
    session: TypedSession,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    if !state.mailbox_enabled() {
        return Err(AppError::NotFound);
    }
    let messages = crate::db::run(&state.pool, |conn| Ok(outbox::latest(conn, 100)?)).await?;
    crate::web::render(&MailboxPage {
        layout: Layout::anonymous(&session)?,
        messages: messages.iter().map(shown).collect(),
    })
}

fn shown(message: &OutboxMessage) -> ShownMessage {
    ShownMessage {
        id: message.id,
        recipient: message.recipient.clone(),
        subject: message.subject.clone(),
        created_at: message
            .created_at
            .format("%d %b %Y %H:%M:%S UTC")
            .to_string(),
        status: message.delivery_status(),
        body_html: linkify(&message.text_body),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Escapes the text, then turns each http(s) URL into a link.
pub fn linkify(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut rest = text;
    while let Some(start) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        out.push_str(&escape(&rest[..start]));
        let url_len = rest[start..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(rest.len() - start);
        let url = escape(&rest[start..start + url_len]);
        out.push_str(&format!("<a href=\"{url}\">{url}</a>"));
        rest = &rest[start + url_len..];
    }
    out.push_str(&escape(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_become_anchors_and_the_rest_is_escaped() {
        let html = linkify("Hi <Amy>\nhttp://x.test/verify/abc\nbye");
        assert_eq!(
            html,
            "Hi &lt;Amy&gt;\n<a href=\"http://x.test/verify/abc\">http://x.test/verify/abc</a>\nbye"
        );
    }
}
