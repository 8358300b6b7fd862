//! Who is asking before they are signed in: a `Visitor` (signing in or up, following a link
//! from an email), and a `PendingUser` (password accepted, second factor owed). Each carries
//! the session, the state and the client's address, and runs its decision in one transaction.
//! `CurrentUser` is the older signed-in guard, kept while its last handlers move to `Signed`.

use std::future::{ready, Future, Ready};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use diesel::PgConnection;

use crate::auth::session::TypedSession;
use crate::db::models::users::{self, User};
use crate::domain::UserId;
use crate::error::{AppError, AppResult};
use crate::services::{Actor, Decision};
use crate::state::AppState;
use crate::web::layout::Navigation;

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
