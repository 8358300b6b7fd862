//! `GET /organisations/{org_id}/admin/audit?action=&person=&page=`: every event about the
//! organisation, its workspaces and its people (actor, action, target, workspace, time,
//! address), newest first, filterable; `.../audit.csv` downloads the filtered log.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{csv_field, AdminNav};
use crate::auth::{permissions, TypedSession};
use crate::db::models::audit_log::{self, LogFilter, LogLine};
use crate::domain::OrganisationId;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

const PAGE_SIZE: i64 = 50;
/// The download's cap: a year of a large trust's administration.
const CSV_ROWS: i64 = 100_000;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    action: String,
    person: String,
    page: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> LogFilter {
        LogFilter {
            action: self.action.trim().to_string(),
            person: self.person.trim().chars().take(200).collect(),
        }
    }

    fn href(&self, org: OrganisationId, path: &str, page: Option<i64>) -> String {
        let mut pairs = vec![
            ("action", self.action.clone()),
            ("person", self.person.clone()),
        ];
        if let Some(page) = page {
            pairs.push(("page", page.to_string()));
        }
        format!(
            "/organisations/{org}/admin/{path}?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    nav: AdminNav,
    lines: Vec<LogLine>,
    actions: Vec<String>,
    action: String,
    person: String,
    page: i64,
    previous_href: Option<String>,
    next_href: Option<String>,
    csv_href: String,
}

pub async fn audit_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let (user, org_id, query) = (
        current.user.clone(),
        org_id.into_inner(),
        query.into_inner(),
    );
    let page = query.page.unwrap_or(1).clamp(1, 100_000);
    let filter = query.filter();
    let (nav, mut lines, actions) = crate::db::run(&state.pool, move |conn| {
        let org = permissions::view_audit(conn, &user, org_id)?;
        let nav = AdminNav::load(conn, &org, &user, "audit")?;
        // One more than a page says whether there is a next one.
        let lines = audit_log::lines(conn, org.id, &filter, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)?;
        Ok((nav, lines, audit_log::actions(conn, org.id)?))
    })
    .await?;
    let more = lines.len() as i64 > PAGE_SIZE;
    lines.truncate(PAGE_SIZE as usize);
    crate::web::render(&AuditPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        nav,
        lines,
        actions,
        previous_href: (page > 1).then(|| query.href(org_id, "audit", Some(page - 1))),
        next_href: more.then(|| query.href(org_id, "audit", Some(page + 1))),
        csv_href: query.href(org_id, "audit.csv", None),
        action: query.action,
        person: query.person,
        page,
    })
}

pub async fn audit_csv(
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let (user, org_id) = (current.user.clone(), org_id.into_inner());
    let filter = query.filter();
    let lines = crate::db::run(&state.pool, move |conn| {
        let org = permissions::view_audit(conn, &user, org_id)?;
        Ok(audit_log::lines(conn, org.id, &filter, CSV_ROWS, 0)?)
    })
    .await?;
    let mut csv = String::from("time,actor,action,target,workspace,address,detail\r\n");
    for l in &lines {
        let row = [
            l.occurred_at.to_rfc3339(),
            l.actor.clone(),
            l.action.clone(),
            l.target.clone(),
            l.workspace.clone(),
            l.ip_address.clone(),
            l.detail.clone(),
        ];
        csv.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push_str("\r\n");
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"audit.csv\"",
        ))
        .body(csv))
}
