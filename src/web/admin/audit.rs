//! `GET /organisations/{org_id}/admin/audit?action=&person=&page=`: every event that happened
//! in the organisation and its workspaces (actor, action, target, workspace, time,
//! address), newest first, filterable; `.../audit.csv` downloads the filtered log. Both say what
//! happened in words (`AuditAction::words`); the filter keeps the action's code in the query.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{csv_field, AdminNav};
use crate::auth::permissions;
use crate::db::models::audit_log::{self, LogFilter, LogLine};
use crate::domain::{AuditAction, DomainError, OrganisationId, Text, TextRules};
use crate::error::AppResult;
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
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

/// Whom the log may be searched for.
const PERSON: TextRules = TextRules::line("The person", 200);

impl AuditQuery {
    /// An action the log does not know is no filter at all; a person who cannot be anyone's
    /// name (a control character in it) is refused, and matches nothing.
    fn filter(&self) -> Result<LogFilter, DomainError> {
        Ok(LogFilter {
            action: AuditAction::parse(self.action.trim()).ok(),
            person: Text::parse(&self.person, PERSON)?.into_string(),
        })
    }
}

/// The page (or the download) of the log with the same filter.
fn href(filter: &LogFilter, org: OrganisationId, path: &str, page: Option<i64>) -> String {
    let action = filter.action.map_or("", AuditAction::code);
    let mut pairs = vec![("action", action), ("person", &filter.person)];
    let page = page.map(|p| p.to_string());
    if let Some(page) = &page {
        pairs.push(("page", page));
    }
    format!(
        "/organisations/{org}/admin/{path}?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    nav: AdminNav,
    errors: FormErrors,
    lines: Vec<LogLine>,
    /// The actions the log holds, by their words.
    actions: Vec<AuditAction>,
    action: Option<AuditAction>,
    person: String,
    page: i64,
    previous_href: Option<String>,
    next_href: Option<String>,
    csv_href: String,
}

pub async fn audit_page(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let org_id = org_id.into_inner();
    let page = query.page.unwrap_or(1).clamp(1, 100_000);
    let mut errors = FormErrors::default();
    let wanted = errors.check("person", query.filter());
    let filter = wanted.clone().unwrap_or_default();
    let found = signed
        .page(move |conn, frame| {
            let org = permissions::view_audit(conn, &frame.user, org_id)?;
            let nav = AdminNav::load(conn, &org, &frame.user, "audit")?;
            // One more than a page says whether there is a next one.
            let offset = (page - 1) * PAGE_SIZE;
            let lines = match &wanted {
                Some(wanted) => audit_log::lines(conn, org.id, wanted, PAGE_SIZE + 1, offset)?,
                None => Vec::new(),
            };
            Ok((nav, lines, audit_log::actions(conn, org.id)?))
        })
        .await?;
    let (nav, mut lines, mut actions) = found.data;
    let more = lines.len() as i64 > PAGE_SIZE;
    lines.truncate(PAGE_SIZE as usize);
    actions.sort_by_key(|a| a.words());
    crate::web::render_with(
        errors.status(),
        &AuditPage {
            layout: found.layout,
            nav,
            errors,
            lines,
            actions,
            previous_href: (page > 1).then(|| href(&filter, org_id, "audit", Some(page - 1))),
            next_href: more.then(|| href(&filter, org_id, "audit", Some(page + 1))),
            csv_href: href(&filter, org_id, "audit.csv", None),
            action: filter.action,
            person: query.into_inner().person,
            page,
        },
    )
}

pub async fn audit_csv(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let (org_id, filter) = (org_id.into_inner(), query.filter().ok());
    let lines = signed
        .read(move |conn, user| {
            let org = permissions::view_audit(conn, user, org_id)?;
            Ok(match &filter {
                Some(filter) => audit_log::lines(conn, org.id, filter, CSV_ROWS, 0)?,
                None => Vec::new(),
            })
        })
        .await?;
    let mut csv = String::from("time,actor,action,target,workspace,address,detail\r\n");
    for l in &lines {
        let row: [&str; 7] = [
            &l.occurred_at.to_rfc3339(),
            &l.actor,
            l.action.words(),
            &l.target,
            &l.workspace,
            &l.ip_address,
            &l.detail,
        ];
        csv.push_str(&row.map(csv_field).join(","));
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
