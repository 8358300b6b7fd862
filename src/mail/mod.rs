//! Mail is data: one struct per email with a plain-text and an HTML askama template, written to
//! the outbox in the caller's transaction, delivered later by the worker.

pub mod messages;
pub mod outbox;
pub mod worker;

pub use outbox::{enqueue, enqueue_sms};

/// An email ready to be queued.
pub trait Email {
    fn subject(&self) -> String;
    fn text_body(&self) -> askama::Result<String>;
    fn html_body(&self) -> askama::Result<String>;
}

/// A text message ready to be queued (to a UK mobile number).
pub trait Sms {
    fn text(&self) -> askama::Result<String>;
}
