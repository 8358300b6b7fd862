//! `GET /`: the home of the current workspace (or the personal "My Workspace"); signed-out
//! visitors are sent to sign in.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::db::models::organisations::{self, Organisation};
use crate::db::models::workspaces::Workspace;
use crate::domain::WorkspaceRole;
use crate::error::AppResult;
use crate::web::context::Signed;
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

async fn home_page(signed: Signed) -> AppResult<HttpResponse> {
    let page = signed
        .page(|conn, frame| Ok(organisations::of_user(conn, frame.user.id)?))
        .await?;
    let membership = page.membership();
    crate::web::render(&HomePage {
        pending: membership.is_some_and(|m| !m.is_approved()),
        colleague: membership.is_some_and(|m| m.is_approved() && m.role != WorkspaceRole::Guest),
        workspace: page.current.as_ref().map(|(w, _)| w.clone()),
        first_name: page.user.first_name,
        organisations: page.data,
        layout: page.layout,
    })
}
