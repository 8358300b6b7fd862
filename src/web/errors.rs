//! How an `AppError` is answered: sign-in redirects, and error pages rendered from
//! templates/errors/ (the cause is logged, never shown).

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::error::AppError;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Unavailable(_) | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (heading, message) = match self {
            AppError::SignInRequired { next } => {
                let location = match next {
                    Some(next) => format!(
                        "/login?{}",
                        serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
                    ),
                    None => "/login".to_string(),
                };
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .finish();
            }
            AppError::NotFound => (
                "Page not found",
                "If you typed the web address, check it is correct. If you pasted it, check you copied all of it.".into(),
            ),
            AppError::Csrf => (
                "This form has expired",
                "For your security the form could not be sent. Go back, reload the page and try again.".into(),
            ),
            AppError::BadRequest(why) => ("Check what you entered", (*why).to_string()),
            AppError::TooLarge => (
                "What you sent is too large",
                "Forms here take up to 256 KB, and uploaded files up to 2 MB. Go back and send less at a time.".into(),
            ),
            AppError::Conflict(cause) => {
                tracing::info!(error = %cause, "a change lost a race with another");
                (
                    "Someone else changed this at the same moment",
                    "Go back, reload the page to see the change, and try again.".to_string(),
                )
            }
            AppError::Busy => {
                tracing::warn!("too many sign-ins at once: one was asked to try again");
                let page = ErrorPage {
                    layout: Layout::bare(),
                    heading: "Sorry, Staffroom is too busy",
                    message: "Too many people are signing in at this moment. Try again in a moment.".into(),
                };
                let body = page.render().unwrap_or_default();
                return HttpResponse::ServiceUnavailable()
                    .insert_header((
                        header::RETRY_AFTER,
                        crate::auth::hash_gate::RETRY_AFTER.as_secs().to_string(),
                    ))
                    .content_type("text/html; charset=utf-8")
                    .body(body);
            }
            AppError::Unavailable(cause) => {
                tracing::error!(error = ?cause, "database unavailable");
                (
                    "Sorry, the service is unavailable",
                    "Staffroom cannot reach its database just now. Try again in a few minutes.".into(),
                )
            }
            AppError::Unexpected(cause) => {
                tracing::error!(error = ?cause, "unexpected error");
                (
                    "Sorry, there is a problem with the service",
                    "Try again later. Nothing you entered has been saved half-way.".into(),
                )
            }
        };
        let page = ErrorPage {
            layout: Layout::bare(),
            heading,
            message: message.clone(),
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("<h1>{heading}</h1><p>{message}</p>"));
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}
