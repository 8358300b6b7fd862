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
    /// A body larger than any form or upload here takes.
    #[error("the request is too large")]
    TooLarge,
    /// Two changes to the same thing at the same moment; the other one won.
    #[error("conflict")]
    Conflict(#[source] anyhow::Error),
    /// More sign-ins at once than the machine can hash and its line can hold.
    #[error("too busy")]
    Busy,
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
            // What the request sent, not the server, is at fault: say so rather than 500. (A
            // check violation is not among them: the domain types keep every value inside its
            // column's checks, so one is the server's own rule broken.)
            DieselError::DatabaseError(_, ref info) if is_input_fault(info.message()) => {
                AppError::BadRequest(CANNOT_STORE)
            }
            // Another change won: the name was taken, or what the request names was changed
            // or removed in the meantime (or never existed, for an id made up).
            DieselError::DatabaseError(
                Kind::UniqueViolation
                | Kind::SerializationFailure
                | Kind::ForeignKeyViolation
                | Kind::RestrictViolation
                | Kind::ExclusionViolation,
                _,
            ) => AppError::Conflict(err.into()),
            // A standby, or a primary being failed over: the service, not the request.
            DieselError::DatabaseError(Kind::ReadOnlyTransaction, _) => {
                AppError::Unavailable(err.into())
            }
            other => AppError::Unexpected(other.into()),
        }
    }
}

const CANNOT_STORE: &str = "Something you entered contains characters or a length Staffroom cannot store. Check what you typed and try again.";

/// PostgreSQL's words for a value it cannot take: a NUL or an invalid byte (22021), a value
/// too long for its column (22001), a number out of range (22003), text that is not the
/// column's type (22P02, 22007, 22008), a value too long to index (54000).
fn is_input_fault(message: &str) -> bool {
    [
        "invalid byte sequence",
        "value too long",
        "out of range",
        "null character not permitted",
        "invalid input syntax",
        "invalid input value",
        "index row size",
        "index row requires",
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind as Kind};

    struct Info(&'static str);

    impl DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn mapped(kind: Kind, message: &'static str) -> AppError {
        DieselError::DatabaseError(kind, Box::new(Info(message))).into()
    }

    #[test]
    fn what_the_request_sent_is_a_4xx_and_only_the_servers_faults_are_500() {
        for message in [
            "invalid byte sequence for encoding \"UTF8\": 0x00",
            "value too long for type character varying(100)",
            "value \"99999999999\" is out of range for type integer",
            "invalid input syntax for type uuid: \"x\"",
            "index row size 9000 exceeds btree version 4 maximum 2704 for index \"k\"",
        ] {
            assert!(
                matches!(mapped(Kind::Unknown, message), AppError::BadRequest(_)),
                "{message}"
            );
        }
        assert!(matches!(
            mapped(Kind::CheckViolation, "new row violates check constraint"),
            AppError::Unexpected(_)
        ));
        for kind in [
            Kind::UniqueViolation,
            Kind::SerializationFailure,
            Kind::ForeignKeyViolation,
        ] {
            assert!(matches!(mapped(kind, "violates"), AppError::Conflict(_)));
        }
        assert!(matches!(
            mapped(
                Kind::ReadOnlyTransaction,
                "cannot execute INSERT in a read-only transaction"
            ),
            AppError::Unavailable(_)
        ));
        assert!(matches!(
            mapped(Kind::NotNullViolation, "null value in column \"name\""),
            AppError::Unexpected(_)
        ));
        assert!(matches!(
            mapped(Kind::Unknown, "relation \"nope\" does not exist"),
            AppError::Unexpected(_)
        ));
        assert!(matches!(
            AppError::from(DieselError::NotFound),
            AppError::NotFound
        ));
    }
}
