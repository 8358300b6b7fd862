//! `GET /organisations/{org_id}/admin/users?q=&page=`: the organisation's people with status,
//! flags and roles, searched by first name, surname, full name or email, a page at a time;
//! likely duplicates are flagged, and email-less rostered profiles are listed below.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{status_of, AdminNav};
use crate::auth::permissions;
use crate::db::models::organisations;
use crate::db::models::people::{self, PAGE_SIZE};
use crate::db::models::roles;
use crate::db::models::roster_profiles::{self, RosterProfile};
use crate::db::models::users::User;
use crate::domain::{OrganisationId, Text, TextRules, UserId};
use crate::error::AppResult;
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

/// What may be searched for.
const SEARCH: TextRules = TextRules::line("The search", 200);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UsersQuery {
    q: String,
    page: Option<i64>,
}

pub struct PersonRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub status: &'static str,
    pub status_tag: &'static str,
    pub medical_secretary: bool,
    pub imported: bool,
    pub roles: Vec<String>,
    pub likely_duplicate: bool,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    nav: AdminNav,
    errors: FormErrors,
    /// The search as typed.
    q: String,
    rows: Vec<PersonRow>,
    profiles: Vec<RosterProfile>,
    total: i64,
    page: i64,
    pages: i64,
    previous_href: Option<String>,
    next_href: Option<String>,
}

fn page_href(org: OrganisationId, q: &str, page: i64) -> String {
    let query =
        serde_urlencoded::to_string([("q", q), ("page", &page.to_string())]).unwrap_or_default();
    format!("/organisations/{org}/admin/users?{query}")
}

/// The nav, one page of people matching `search`, the email-less profiles, and the total;
/// nobody for a search that was refused (`None`).
fn load(
    conn: &mut diesel::PgConnection,
    user: &User,
    org_id: OrganisationId,
    search: Option<&str>,
    page: i64,
) -> AppResult<(AdminNav, Vec<PersonRow>, Vec<RosterProfile>, i64)> {
    let org = permissions::administer_users(conn, user, org_id)?;
    let nav = AdminNav::load(conn, &org, user, "users")?;
    let Some(search) = search else {
        return Ok((nav, Vec::new(), Vec::new(), 0));
    };
    let (found, total) = people::search(conn, org.id, search, page)?;
    let ids: Vec<UserId> = found.iter().map(|u| u.id).collect();
    let role_names = roles::names_for(conn, org.id, &ids)?;
    let duplicates = people::with_likely_duplicates(conn, org.id, &ids)?;
    let suspended = organisations::suspended_among(conn, org.id, &ids)?;
    let rows = found
        .into_iter()
        .map(|u| {
            let (status, status_tag) = status_of(&u, suspended.contains(&u.id));
            PersonRow {
                roles: role_names
                    .iter()
                    .filter(|(holder, _, _)| *holder == u.id)
                    .map(|(_, role, scope)| match scope {
                        Some(ws) => format!("{role} ({ws})"),
                        None => role.clone(),
                    })
                    .collect(),
                likely_duplicate: duplicates.contains(&u.id),
                id: u.id,
                name: u.full_name(),
                email: u.email,
                status,
                status_tag,
                medical_secretary: u.medical_secretary,
                imported: u.imported,
            }
        })
        .collect();
    let profiles = roster_profiles::unlinked(conn, org.id, search, 50)?;
    Ok((nav, rows, profiles, total))
}

pub async fn users_page(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    query: web::Query<UsersQuery>,
) -> AppResult<HttpResponse> {
    let org_id = org_id.into_inner();
    let mut errors = FormErrors::default();
    let search = errors.check("q", Text::parse(&query.q, SEARCH));
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let searched = search.clone();
    let found = signed
        .page(move |conn, frame| {
            let search = searched.as_ref().map(Text::as_str);
            load(conn, &frame.user, org_id, search, page)
        })
        .await?;
    let (nav, rows, profiles, total) = found.data;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let q = search.map_or_else(|| query.into_inner().q, Text::into_string);
    crate::web::render_with(
        errors.status(),
        &UsersPage {
            layout: found.layout,
            previous_href: (page > 1).then(|| page_href(org_id, &q, page - 1)),
            next_href: (page < pages).then(|| page_href(org_id, &q, page + 1)),
            nav,
            errors,
            q,
            rows,
            profiles,
            total,
            page,
            pages,
        },
    )
}
