//! One error type for every handler: what the person sees, and what is logged.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub type AppResult<T> = Result<T, AppError>;

#[derive(thiserror::Error, Debug)]
pub enum AppError {
    /// Also the answer for another organisation's ids and for what the caller may not see.
    #[error("not found")]
    NotFound,
    #[error("sign-in required")]
    SignInRequired { next: Option<String> },
    #[error("the form's security token is missing or out of date")]
    Csrf,
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => AppError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                AppError::Unavailable(err.into())
            }
            other => AppError::Unexpected(other.into()),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(err.into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::Unexpected(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        AppError::Unexpected(err.into())
    }
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    layout: crate::web::layout::Layout,
    heading: &'static str,
    message: &'static str,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::SignInRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
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
                "If you typed the web address, check it is correct. If you pasted it, check you copied all of it.",
            ),
            AppError::Csrf => (
                "This form has expired",
                "For your security the form could not be sent. Go back, reload the page and try again.",
            ),
            AppError::Unavailable(cause) => {
                tracing::error!(error = ?cause, "database unavailable");
                (
                    "Sorry, the service is unavailable",
                    "Staffroom cannot reach its database just now. Try again in a few minutes.",
                )
            }
            AppError::Unexpected(cause) => {
                tracing::error!(error = ?cause, "unexpected error");
                (
                    "Sorry, there is a problem with the service",
                    "Try again later. Nothing you entered has been saved half-way.",
                )
            }
        };
        let page = ErrorPage {
            layout: crate::web::layout::Layout::bare(),
            heading,
            message,
        };
        let body = page
            .render()
            .unwrap_or_else(|_| format!("<h1>{heading}</h1><p>{message}</p>"));
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(body)
    }
}
