//! Who is asking. A signed-in handler takes `Signed` (and its form), and makes one call:
//! `page` to render (the user and the page frame in one statement, then the page's own
//! queries, on one connection), or `decide` to change something (one transaction that loads the
//! user first, so a deactivated account decides nothing). The frame (switcher, prompts, the
//! Administration link) is only ever loaded for a page that renders.

use std::convert::Infallible;
use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use diesel::PgConnection;

use crate::auth::TypedSession;
use crate::config::Settings;
use crate::db::models::frame;
use crate::db::models::users::{self, User};
use crate::db::models::workspace_members::Membership;
use crate::db::models::workspaces::Workspace;
use crate::domain::{UserId, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::services::Decision;
use crate::state::AppState;
use crate::web::layout::{Layout, Navigation};

/// The request as a signed-in person makes it. Built from the session alone (no query).
pub struct Signed {
    pub session: TypedSession,
    pub state: web::Data<AppState>,
    /// The client's address, for audit events and throttles.
    pub ip: String,
    user_id: UserId,
    chosen: Option<WorkspaceId>,
    /// Where to come back to after signing in again (GET requests only).
    next: Option<String>,
    /// The request's path (no query): the page frame marks where the person is.
    path: String,
}

/// What `Signed::page` hands the page's own queries.
pub struct Frame {
    pub user: User,
    /// The workspace chosen in the switcher, if still theirs; `None` is "My Workspace".
    pub current: Option<(Workspace, Membership)>,
}

/// A page ready to render: its layout, who it is for, and what the page's queries found.
pub struct Page<T> {
    pub layout: Layout,
    pub user: User,
    pub current: Option<(Workspace, Membership)>,
    pub data: T,
}

impl<T> Page<T> {
    /// The current workspace's membership, when one is chosen.
    pub fn membership(&self) -> Option<&Membership> {
        self.current.as_ref().map(|(_, m)| m)
    }
}

impl Signed {
    pub fn id(&self) -> UserId {
        self.user_id
    }

    pub fn settings(&self) -> &Settings {
        &self.state.settings
    }

    pub fn base_url(&self) -> String {
        self.state.settings.base_url.clone()
    }

    /// One connection: the user and the frame in one statement, then `load`, the page's own.
    pub async fn page<T, F>(&self, load: F) -> AppResult<Page<T>>
    where
        F: FnOnce(&mut PgConnection, &Frame) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (user_id, chosen) = (self.user_id, self.chosen);
        // Read with the session, on the connection this request holds (see `db::request`).
        let ready = crate::db::request::take_frame(user_id);
        let have = ready.is_some();
        let loaded = crate::db::using(
            &self.state.pool,
            move |conn| match have {
                true => Ok(None),
                false => frame::load(conn, user_id),
            },
            move |conn, found| {
                let Some(found) = ready.or(found).filter(|f| f.user.is_active()) else {
                    return Ok(None);
                };
                let nav = Navigation::from_frame(&found, chosen);
                let frame = Frame {
                    user: found.user,
                    current: nav.current.clone(),
                };
                let data = load(conn, &frame)?;
                Ok(Some((frame, nav, data)))
            },
        )
        .await;
        let (frame, nav, data) = self.present(loaded)?;
        Ok(Page {
            layout: Layout::signed_in(&self.session, &frame.user, &nav, &self.path)?,
            user: frame.user,
            current: frame.current,
            data,
        })
    }

    /// One transaction: the user first (a deactivated account decides nothing), then `decide`.
    /// A refusal rolls back everything it wrote.
    pub async fn decide<T, R, F>(&self, decide: F) -> AppResult<Decision<T, R>>
    where
        F: FnOnce(&mut PgConnection, &User) -> AppResult<Decision<T, R>> + Send + 'static,
        T: Send + 'static,
        R: Send + 'static,
    {
        let user_id = self.user_id;
        let result = crate::services::decide(&self.state.pool, move |conn| {
            match users::find(conn, user_id).map_err(AppError::from) {
                Ok(user) if user.is_active() => decide(conn, &user),
                Ok(_) | Err(AppError::NotFound) => Err(AppError::SignInRequired { next: None }),
                Err(e) => Err(e),
            }
        })
        .await;
        if matches!(result, Err(AppError::SignInRequired { .. })) {
            self.session.log_out();
        }
        result
    }

    /// One transaction for a change that is never refused (it fails or is done).
    pub async fn change<T, F>(&self, change: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection, &User) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        match self
            .decide(move |conn, user| change(conn, user).map(Decision::<T, Infallible>::Done))
            .await?
        {
            Decision::Done(value) => Ok(value),
            Decision::Refused(never) => match never {},
        }
    }

    /// Reads without the frame (a download, a check before a form): the user, then `read`.
    pub async fn read<T, F>(&self, read: F) -> AppResult<T>
    where
        F: FnOnce(&mut PgConnection, &User) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let user_id = self.user_id;
        let loaded = crate::db::using(
            &self.state.pool,
            move |conn| users::find_optional(conn, user_id),
            |conn, user| match user.filter(User::is_active) {
                Some(user) => read(conn, &user).map(Some),
                None => Ok(None),
            },
        )
        .await;
        self.present(loaded)
    }

    /// Post/Redirect/Get with a one-line confirmation on the next page.
    pub fn done(&self, flash: &str, location: &str) -> AppResult<HttpResponse> {
        self.session.set_flash(flash)?;
        Ok(crate::web::see_other(location))
    }

    /// `None` is an account deactivated or deleted since it signed in: the session ends here.
    fn present<T>(&self, loaded: AppResult<Option<T>>) -> AppResult<T> {
        match loaded? {
            Some(value) => Ok(value),
            None => {
                self.session.log_out();
                Err(AppError::SignInRequired {
                    next: self.next.clone(),
                })
            }
        }
    }
}

impl FromRequest for Signed {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(signed(req, payload))
    }
}

fn signed(req: &HttpRequest, payload: &mut Payload) -> AppResult<Signed> {
    let next = return_path(req);
    let session = TypedSession::from_request(req, payload)
        .into_inner()
        .map_err(|_| AppError::SignInRequired { next: next.clone() })?;
    session.require_store()?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("application state missing"))?;
    let Some(user_id) = session.user_id()? else {
        return Err(AppError::SignInRequired { next });
    };
    Ok(Signed {
        chosen: session.current_workspace(),
        ip: crate::web::client_ip(req),
        session,
        state,
        user_id,
        next,
        path: req.path().to_string(),
    })
}

/// The path to come back to after signing in (GET requests only).
fn return_path(req: &HttpRequest) -> Option<String> {
    (req.method() == actix_web::http::Method::GET).then(|| {
        req.uri()
            .path_and_query()
            .map_or("/".to_string(), |pq| pq.as_str().to_string())
    })
}

/// Middleware around the session's: a page request (a GET outside the static files) holds
/// one connection from its session's load to its response, and reads its frame with the
/// session (`db::request`). Other requests check connections out as they need them.
pub async fn hold_connection(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let page = req.method() == actix_web::http::Method::GET
        && !req.path().starts_with("/static/")
        && req.path() != "/healthz"
        && req.path() != "/readyz";
    if page {
        crate::db::request::scope(next.call(req)).await
    } else {
        next.call(req).await
    }
}
