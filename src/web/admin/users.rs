//! `GET /organisations/{org_id}/admin/users?q=&after=|before=`: the organisation's people with
//! status, flags and roles, searched by first name, surname, full name or email, a page at a
//! time (Next and Previous carry the key of the page's edge, so no page counts the world);
//! likely duplicates are flagged, and email-less rostered profiles are listed below.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{status_of, AdminNav};
use crate::auth::permissions;
use crate::db::models::organisations;
use crate::db::models::people;
use crate::db::models::roles;
use crate::db::models::roster_profiles::{self, RosterProfile};
use crate::db::models::users::User;
use crate::domain::paging::{Count, Key, PageKey, PageStart, Paged};
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
    after: String,
    before: String,
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
    /// What the row's "…" menu offers (never for the viewer's own account).
    pub may_resend_confirmation: bool,
    pub may_deactivate: bool,
    pub may_reactivate: bool,
    /// Also in another organisation: the account is not this organisation's alone to change.
    pub shared: bool,
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
    /// "30 people", "More than 1,000 people".
    count: String,
    previous_href: Option<String>,
    next_href: Option<String>,
}

fn page_href(org: OrganisationId, q: &str, edge: &str, key: &PageKey) -> String {
    let query = serde_urlencoded::to_string([("q", q), (edge, &key.encode())]).unwrap_or_default();
    format!("/organisations/{org}/admin/users?{query}")
}

type Found = (AdminNav, Paged<PersonRow>, Vec<RosterProfile>, Count);

/// The nav, one page of people matching `search`, the email-less profiles, and how many
/// match; nobody for a search that was refused (`None`).
fn load(
    conn: &mut diesel::PgConnection,
    user: &User,
    org_id: OrganisationId,
    search: Option<&str>,
    start: &PageStart,
) -> AppResult<Found> {
    let org = permissions::administer_users(conn, user, org_id)?;
    let nav = AdminNav::load(conn, &org, user, "users")?;
    let Some(search) = search else {
        let none = Paged {
            rows: Vec::new(),
            previous: None,
            next: None,
        };
        return Ok((nav, none, Vec::new(), Count::Exactly(0)));
    };
    let (found, count) = people::search(conn, org.id, search, start)?;
    let ids: Vec<UserId> = found.rows.iter().map(|u| u.id).collect();
    let role_names = roles::names_for(conn, org.id, &ids)?;
    let duplicates = people::with_likely_duplicates(conn, org.id, &ids)?;
    let suspended = organisations::suspended_among(conn, org.id, &ids)?;
    let shared = people::in_other_organisations_among(conn, org.id, &ids)?;
    let rows = found.map(|u| {
        let (status, status_tag) = status_of(&u, suspended.contains(&u.id));
        let is_self = u.id == user.id;
        // As `services::accounts::act` decides: never one's own, never a shared account.
        let shared = !is_self && shared.contains(&u.id);
        PersonRow {
            may_resend_confirmation: !is_self && u.is_active() && !u.is_verified(),
            may_deactivate: !is_self && !shared && u.is_active(),
            may_reactivate: !is_self && !shared && !u.is_active(),
            shared,
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
    });
    let profiles = roster_profiles::unlinked(conn, org.id, search, 50)?;
    Ok((nav, rows, profiles, count))
}

pub async fn users_page(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    query: web::Query<UsersQuery>,
) -> AppResult<HttpResponse> {
    let org_id = org_id.into_inner();
    let mut errors = FormErrors::default();
    let search = errors.check("q", Text::parse(&query.q, SEARCH));
    let start = PageStart::from_query(&query.after, &query.before);
    let searched = search.clone();
    let found = signed
        .page(move |conn, frame| {
            let search = searched.as_ref().map(Text::as_str);
            load(conn, &frame.user, org_id, search, &start)
        })
        .await?;
    let (nav, page, profiles, count) = found.data;
    let q = search.map_or_else(|| query.into_inner().q, Text::into_string);
    crate::web::render_with(
        errors.status(),
        &UsersPage {
            layout: found.layout,
            previous_href: page
                .previous
                .as_ref()
                .map(|key| page_href(org_id, &q, "before", key)),
            next_href: page
                .next
                .as_ref()
                .map(|key| page_href(org_id, &q, "after", key)),
            nav,
            errors,
            q,
            rows: page.rows,
            profiles,
            count: count.describe("person", "people"),
        },
    )
}
