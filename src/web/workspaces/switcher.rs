//! The workspace switcher: `GET /workspaces` lists yours with their status, and
//! `POST /workspaces/{id}/switch` makes one current (`personal` is "My Workspace").

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::{permissions, TypedSession};
use crate::domain::WorkspaceId;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::guards::CurrentUser;
use crate::web::layout::{Layout, SwitcherItem};

#[derive(Template)]
#[template(path = "workspaces/list.html")]
struct WorkspacesPage {
    layout: Layout,
    items: Vec<SwitcherItem>,
}

pub async fn workspaces_page(
    session: TypedSession,
    current: CurrentUser,
) -> AppResult<HttpResponse> {
    crate::web::render(&WorkspacesPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        items: current.nav.items.clone(),
    })
}

pub async fn switch(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    if id.as_str() == "personal" {
        session.set_current_workspace(None)?;
        return Ok(crate::web::see_other("/"));
    }
    let id: WorkspaceId = id.parse().map_err(|_| AppError::NotFound)?;
    let user = current.user;
    let access = crate::db::run(&state.pool, move |conn| {
        permissions::workspace(conn, &user, id)
    })
    .await?;
    // Only a workspace you belong to (pending or approved) can be current.
    if access.membership.is_none() {
        return Err(AppError::NotFound);
    }
    session.set_current_workspace(Some(id))?;
    Ok(crate::web::see_other("/"))
}
