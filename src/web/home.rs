//! `GET /`: the home of the current workspace (or the personal "My Workspace"); signed-out
//! visitors are sent to sign in.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::{CurrentUser, TypedSession};
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::workspace_members::GUEST;
use crate::db::models::workspaces::Workspace;
use crate::error::AppResult;
use crate::startup::AppState;
use crate::web::layout::Layout;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home_page));
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    first_name: String,
    organisations: Vec<Organisation>,
    /// The workspace chosen in the switcher; `None` is "My Workspace".
    workspace: Option<Workspace>,
    pending: bool,
    /// Settings and history are for approved colleagues (not pending members, not guests).
    colleague: bool,
}

async fn home_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
) -> AppResult<HttpResponse> {
    let user = current.id();
    let organisations = crate::db::run(&state.pool, move |conn| {
        Ok(organisations::of_user(conn, user)?)
    })
    .await?;
    crate::web::render(&HomePage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        first_name: current.user.first_name.clone(),
        organisations,
        workspace: current.nav.current.as_ref().map(|(w, _)| w.clone()),
        pending: current
            .nav
            .current
            .as_ref()
            .is_some_and(|(_, m)| !m.is_approved()),
        colleague: current
            .nav
            .current
            .as_ref()
            .is_some_and(|(_, m)| m.is_approved() && m.role != GUEST),
    })
}
