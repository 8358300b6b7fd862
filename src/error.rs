//! One error type for every layer. How each is answered (the page, the status) is the web
//! layer's business: `crate::web::errors`.

use diesel::result::Error as DieselError;

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
    /// A decision refused, with the reason to show; its transaction was rolled back.
    #[error("refused: {0}")]
    Refused(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => AppError::NotFound,
            ref e if crate::db::is_disconnect(e) => AppError::Unavailable(err.into()),
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
