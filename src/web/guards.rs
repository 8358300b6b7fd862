//! Who is asking before they are signed in: a `Visitor` (signing in or up, following a link
//! from an email), and a `PendingUser` (password accepted, second factor owed). Each carries
//! the session, the state and the client's address, and runs its decision in one transaction.
//! Signed-in requests take `crate::web::context::Signed`.

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use diesel::PgConnection;

use crate::auth::session::TypedSession;
use crate::db::models::users::{self, User};
use crate::error::{AppError, AppResult};
use crate::services::{Actor, Decision};
use crate::state::AppState;

/// Anyone, signed in or not. Their decisions are made with no one as the actor, from `ip`.
pub struct Visitor {
    pub session: TypedSession,
    pub state: web::Data<AppState>,
    /// The client's address, for audit events and throttles.
    pub ip: String,
}

impl Visitor {
    pub fn base_url(&self) -> String {
        self.state.settings.base_url.clone()
    }

    /// One transaction; a refusal rolls back everything it wrote.
    pub async fn decide<T, F>(&self, decide: F) -> AppResult<Decision<T>>
    where
        F: FnOnce(&mut PgConnection, &Actor) -> AppResult<Decision<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.decide_as(None, decide).await
    }

    /// One transaction that commits whatever it came to: a wrong password or an unknown link
    /// is counted by the throttles, and that count must stay.
    pub async fn change<T, F>(&self, change: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection, &Actor) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.change_as(None, change).await
    }

    /// Post/Redirect/Get with a one-line confirmation on the next page.
    pub fn done(&self, flash: &str, location: &str) -> AppResult<HttpResponse> {
        self.session.set_flash(flash)?;
        Ok(crate::web::see_other(location))
    }

    async fn decide_as<T, F>(&self, user: Option<User>, decide: F) -> AppResult<Decision<T>>
    where
        F: FnOnce(&mut PgConnection, &Actor) -> AppResult<Decision<T>> + Send + 'static,
        T: Send + 'static,
    {
        let ip = self.ip.clone();
        crate::services::decide(&self.state.pool, move |conn| {
            decide(conn, &actor(user.as_ref(), ip))
        })
        .await
    }

    async fn change_as<T, F>(&self, user: Option<User>, change: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection, &Actor) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let ip = self.ip.clone();
        crate::db::transaction(&self.state.pool, move |conn| {
            change(conn, &actor(user.as_ref(), ip))
        })
        .await
    }
}

fn actor(user: Option<&User>, ip: String) -> Actor<'_> {
    Actor { user, ip: Some(ip) }
}

impl FromRequest for Visitor {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(visitor(req, payload))
    }
}

fn visitor(req: &HttpRequest, payload: &mut Payload) -> AppResult<Visitor> {
    let session = TypedSession::from_request(req, payload)
        .into_inner()
        .map_err(|_| AppError::SignInRequired { next: None })?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("application state missing"))?;
    Ok(Visitor {
        session,
        state,
        ip: crate::web::client_ip(req),
    })
}

/// Someone whose password was accepted and who owes the second factor (or its enrolment).
/// Their decisions are made as them.
pub struct PendingUser {
    pub user: User,
    pub visitor: Visitor,
}

impl PendingUser {
    /// One transaction; a refusal rolls back everything it wrote.
    pub async fn decide<T, F>(&self, decide: F) -> AppResult<Decision<T>>
    where
        F: FnOnce(&mut PgConnection, &Actor) -> AppResult<Decision<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.visitor
            .decide_as(Some(self.user.clone()), decide)
            .await
    }

    /// One transaction that commits whatever it came to (a wrong code is counted).
    pub async fn change<T, F>(&self, change: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection, &Actor) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.visitor
            .change_as(Some(self.user.clone()), change)
            .await
    }
}

impl FromRequest for PendingUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let visitor = visitor(req, payload);
        Box::pin(async move {
            let visitor = visitor?;
            let Some(user_id) = visitor.session.pending_user_id()? else {
                return Err(AppError::SignInRequired { next: None });
            };
            let user = crate::db::run(&visitor.state.pool, move |conn| {
                Ok(users::find(conn, user_id)?)
            })
            .await;
            match user {
                Ok(user) if user.is_active() => Ok(PendingUser { user, visitor }),
                Ok(_) | Err(AppError::NotFound) => {
                    visitor.session.log_out();
                    Err(AppError::SignInRequired { next: None })
                }
                Err(other) => Err(other),
            }
        })
    }
}
