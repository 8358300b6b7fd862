//! `GET /workspaces/{id}/history`: every membership change and who caused it ("Kim Lee approved
//! by Amy Okonkwo"), newest first; `.../history.csv` downloads the same.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, AuditEvent};
use crate::db::models::workspaces::Workspace;
use crate::domain::WorkspaceId;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

const SHOWN: i64 = 500;

#[derive(Template)]
#[template(path = "workspaces/history.html")]
struct HistoryPage {
    layout: Layout,
    workspace: Workspace,
    events: Vec<AuditEvent>,
}

async fn load(
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
) -> AppResult<(Workspace, Vec<AuditEvent>)> {
    let user = current.user.clone();
    crate::db::run(&state.pool, move |conn| {
        let access = permissions::see_details(conn, &user, id)?;
        let events = audit::for_workspace(conn, id, SHOWN)?;
        Ok((access.workspace, events))
    })
    .await
}

pub async fn history_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    let (workspace, events) = load(&state, &current, id.into_inner()).await?;
    crate::web::render(&HistoryPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        workspace,
        events,
    })
}

pub async fn history_csv(
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    let (workspace, events) = load(&state, &current, id.into_inner()).await?;
    // Addresses stay in the organisation's audit; the workspace's members do not see them.
    let mut csv = String::from("time,action,detail\r\n");
    for e in &events {
        let row = [
            e.occurred_at.to_rfc3339(),
            e.action.words().to_string(),
            e.detail.clone(),
        ];
        csv.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push_str("\r\n");
    }
    let filename: String = workspace
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}-history.csv\""),
        ))
        .body(csv))
}

/// Quotes a field, and defuses spreadsheet formulas (a leading = + - @).
fn csv_field(value: &str) -> String {
    let safe = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", safe.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("Kim \"KL\" Lee"), "\"Kim \"\"KL\"\" Lee\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
    }
}
