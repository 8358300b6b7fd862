//! The workspace switcher: `GET /workspaces` lists yours with their status, and
//! `POST /workspaces/{id}/switch` makes one current (`personal` is "My Workspace").

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::permissions;
use crate::domain::WorkspaceId;
use crate::error::{AppError, AppResult};
use crate::web::context::Signed;
use crate::web::layout::{Layout, SwitcherItem};

#[derive(Template)]
#[template(path = "workspaces/list.html")]
struct WorkspacesPage {
    layout: Layout,
    items: Vec<SwitcherItem>,
}

pub async fn workspaces_page(signed: Signed) -> AppResult<HttpResponse> {
    let page = signed.page(|_, _| Ok(())).await?;
    crate::web::render(&WorkspacesPage {
        items: page.layout.switcher.clone(),
        layout: page.layout,
    })
}

pub async fn switch(signed: Signed, id: web::Path<String>) -> AppResult<HttpResponse> {
    if id.as_str() == "personal" {
        signed.session.set_current_workspace(None)?;
        return Ok(crate::web::see_other("/"));
    }
    let id: WorkspaceId = id.parse().map_err(|_| AppError::NotFound)?;
    // Only a workspace you belong to (pending or approved) can be current.
    signed
        .read(
            move |conn, user| match permissions::workspace(conn, user, id)?.membership {
                Some(_) => Ok(()),
                None => Err(AppError::NotFound),
            },
        )
        .await?;
    signed.session.set_current_workspace(Some(id))?;
    Ok(crate::web::see_other("/"))
}
