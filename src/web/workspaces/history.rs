//! `GET /workspaces/{id}/history`: every membership change and who caused it ("Kim Lee approved
//! by Amy Okonkwo"), newest first; `.../history.csv` downloads the same.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;

use crate::auth::permissions;
use crate::db::models::audit::{self, AuditEvent};
use crate::db::models::users::User;
use crate::db::models::workspaces::Workspace;
use crate::domain::WorkspaceId;
use crate::error::AppResult;
use crate::web::context::Signed;
use crate::web::layout::Layout;

const SHOWN: i64 = 500;

#[derive(Template)]
#[template(path = "workspaces/history.html")]
struct HistoryPage {
    layout: Layout,
    workspace: Workspace,
    events: Vec<AuditEvent>,
}

fn load(
    conn: &mut diesel::PgConnection,
    user: &User,
    id: WorkspaceId,
) -> AppResult<(Workspace, Vec<AuditEvent>)> {
    let access = permissions::see_details(conn, user, id)?;
    let events = audit::for_workspace(conn, id, SHOWN)?;
    Ok((access.workspace, events))
}

pub async fn history_page(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let page = signed
        .page(move |conn, frame| load(conn, &frame.user, id))
        .await?;
    let (workspace, events) = page.data;
    crate::web::render(&HistoryPage {
        layout: page.layout,
        workspace,
        events,
    })
}

pub async fn history_csv(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let (workspace, events) = signed.read(move |conn, user| load(conn, user, id)).await?;
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
