//! Guards as extractors: a handler that takes `CurrentUser` only runs for someone who passed
//! both factors and whose account is active; everyone else is sent to sign in.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::session::TypedSession;
use crate::db::models::users::{self, User};
use crate::domain::UserId;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::layout::Navigation;

pub struct CurrentUser {
    pub user: User,
    /// Their workspaces for the switcher, and the one they are in.
    pub nav: Navigation,
}

impl CurrentUser {
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

/// The path to come back to after signing in (GET requests only).
fn return_path(req: &HttpRequest) -> Option<String> {
    (req.method() == actix_web::http::Method::GET).then(|| {
        req.uri()
            .path_and_query()
            .map_or("/".to_string(), |pq| pq.as_str().to_string())
    })
}

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = TypedSession::from_request(req, payload).into_inner();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let next = return_path(req);
        Box::pin(async move {
            let session = session.map_err(|_| AppError::SignInRequired { next: next.clone() })?;
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let Some(user_id) = session.user_id()? else {
                return Err(AppError::SignInRequired { next });
            };
            let chosen = session.current_workspace();
            let loaded = crate::db::run(&state.pool, move |conn| {
                let frame =
                    crate::db::models::frame::load(conn, user_id)?.ok_or(AppError::NotFound)?;
                let nav = Navigation::from_frame(&frame, chosen);
                Ok((frame.user, nav))
            })
            .await;
            match loaded {
                Ok((user, nav)) if user.is_active() => Ok(CurrentUser { user, nav }),
                Ok(_) | Err(AppError::NotFound) => {
                    session.log_out();
                    Err(AppError::SignInRequired { next })
                }
                Err(other) => Err(other),
            }
        })
    }
}

/// Someone whose password was accepted and who owes the second factor (or its enrolment).
pub struct PendingUser {
    pub user: User,
}

impl FromRequest for PendingUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = TypedSession::from_request(req, payload).into_inner();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let session = session.map_err(|_| AppError::SignInRequired { next: None })?;
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let Some(user_id) = session.pending_user_id()? else {
                return Err(AppError::SignInRequired { next: None });
            };
            let user =
                crate::db::run(&state.pool, move |conn| Ok(users::find(conn, user_id)?)).await;
            match user {
                Ok(user) if user.is_active() => Ok(PendingUser { user }),
                Ok(_) | Err(AppError::NotFound) => {
                    session.log_out();
                    Err(AppError::SignInRequired { next: None })
                }
                Err(other) => Err(other),
            }
        })
    }
}
