//! One error type for every layer. How each is answered (the page, the status) is the web
//! layer's business (src/web/errors.rs).

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
    /// The request itself cannot be taken as it is (a value the database cannot hold); the
    /// sentence says what to change.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// Two changes to the same thing at the same moment; the other one won.
    #[error("conflict")]
    Conflict(#[source] anyhow::Error),
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        use diesel::result::DatabaseErrorKind as Kind;
        match err {
            DieselError::NotFound => AppError::NotFound,
            ref e if crate::db::is_disconnect(e) => AppError::Unavailable(err.into()),
            // What the request sent, not the server, is at fault: say so rather than 500.
            DieselError::DatabaseError(_, ref info) if is_input_fault(info.message()) => {
                AppError::BadRequest(
                    "Something you entered contains characters or a length Staffroom cannot store. Check what you typed and try again.",
                )
            }
            DieselError::DatabaseError(Kind::UniqueViolation | Kind::SerializationFailure, _) => {
                AppError::Conflict(err.into())
            }
            other => AppError::Unexpected(other.into()),
        }
    }
}

/// PostgreSQL's words for a value it cannot take: a NUL or an invalid byte (22021), a value
/// too long for its column (22001), a number out of range (22003).
fn is_input_fault(message: &str) -> bool {
    [
        "invalid byte sequence",
        "value too long",
        "out of range",
        "null character not permitted",
    ]
    .iter()
    .any(|fault| message.contains(fault))
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
