//! The shareable workspace link. Admins: `POST /workspaces/{id}/link/enable` | `/regenerate`
//! | `/disable`, with an optional expiry date, maximum number of uses, and whether people who
//! join through it are approved at once. Anyone: `GET/POST /join/{token}` — a member of the
//! workspace's organisation (or someone whose address it admits) joins as pending, or approved
//! where the admin chose so. Only the token's hash is kept, so the link is shown once, in the
//! response to the form that made it.

use crate::domain::AuditAction;
use crate::domain::{MembershipStatus, WorkspaceRole};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use crate::auth::{throttle, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::join_links::{self, Dead, JoinLink, LinkSettings};
use crate::db::models::organisations;
use crate::db::models::users::User;
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{token::sha256_hex, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::services::join_links::{self as join_links_service, LinkChange};
use crate::services::membership::tell_admins_of_request;
use crate::services::Actor;
use crate::state::AppState;
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;
use crate::web::workspaces::settings::settings_page_after_link_form;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    /// Optional, YYYY-MM-DD: the link works until the end of that day.
    pub expires_on: String,
    /// Optional: how many people may join through it.
    pub max_uses: String,
    /// "yes": people who join are approved at once.
    pub approve_on_join: String,
}

impl LinkForm {
    fn parse(&self, errors: &mut FormErrors) -> Option<LinkSettings> {
        let expires_at = match self.expires_on.trim() {
            "" => None,
            raw => match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
                Ok(day) if day >= Utc::now().date_naive() => day
                    .succ_opt()
                    .map(|next| next.and_time(NaiveTime::MIN).and_utc()),
                Ok(_) => {
                    errors.add("expires_on", "The expiry date must be today or later");
                    None
                }
                Err(_) => {
                    errors.add(
                        "expires_on",
                        "Enter the expiry date as year-month-day, like 2027-03-31",
                    );
                    None
                }
            },
        };
        let max_uses = match self.max_uses.trim() {
            "" => None,
            raw => match raw.parse::<i32>() {
                Ok(n) if (1..=10_000).contains(&n) => Some(n),
                _ => {
                    errors.add(
                        "max_uses",
                        "Enter the maximum number of uses as a whole number from 1 to 10,000",
                    );
                    None
                }
            },
        };
        errors.is_empty().then_some(LinkSettings {
            approve_on_join: self.approve_on_join == "yes",
            expires_at,
            max_uses,
        })
    }
}

pub async fn enable(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    form: web::Form<LinkForm>,
) -> AppResult<HttpResponse> {
    make_link(
        signed,
        id.into_inner(),
        form.into_inner(),
        LinkChange::Enable,
    )
    .await
}

pub async fn regenerate(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    form: web::Form<LinkForm>,
) -> AppResult<HttpResponse> {
    make_link(
        signed,
        id.into_inner(),
        form.into_inner(),
        LinkChange::Regenerate,
    )
    .await
}

async fn make_link(
    signed: Signed,
    id: WorkspaceId,
    form: LinkForm,
    change: LinkChange,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    let Some(settings) = form.parse(&mut errors) else {
        return settings_page_after_link_form(&signed, id, errors, form, None).await;
    };
    let ip = signed.ip.clone();
    let token = signed
        .change(move |conn, user| {
            join_links_service::make(conn, &Actor::person(user, &ip), id, &settings, change)
        })
        .await?;
    // Shown in this response only (no redirect): the plain token is never stored, not even in
    // the session, so reloading the page does not show it again.
    let link = format!("{}/join/{}", signed.base_url(), token.plain());
    signed.session.set_flash(match change {
        LinkChange::Enable => "Shareable link turned on. Copy it now: for security it is shown only once.",
        LinkChange::Regenerate => "New shareable link made; the old one no longer works. Copy it now: for security it is shown only once.",
    })?;
    settings_page_after_link_form(
        &signed,
        id,
        FormErrors::default(),
        LinkForm::default(),
        Some(link),
    )
    .await
}

pub async fn disable(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let ip = signed.ip.clone();
    signed
        .change(move |conn, user| join_links_service::disable(conn, &Actor::person(user, &ip), id))
        .await?;
    signed.done(
        "Shareable link turned off. It no longer works.",
        &format!("/workspaces/{id}/settings#share-link"),
    )
}

/// The shareable link as its settings page shows it.
pub struct LinkView {
    pub on: bool,
    pub dead_reason: Option<&'static str>,
    pub approve_on_join: bool,
    pub expires_on: Option<String>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    /// The link itself, only right after it was made.
    pub new_link: Option<String>,
}

pub fn view(link: Option<&JoinLink>, new_link: Option<String>) -> LinkView {
    LinkView {
        on: link.is_some_and(|l| l.disabled_at.is_none()),
        dead_reason: link.and_then(JoinLink::dead).map(|dead| match dead {
            Dead::Disabled => "turned off",
            Dead::Expired => "expired",
            Dead::UsedUp => "used the maximum number of times",
        }),
        approve_on_join: link.is_some_and(|l| l.approve_on_join),
        expires_on: link.and_then(|l| l.expires_at).map(|at| {
            (at - chrono::Duration::days(1))
                .format("%-d %B %Y")
                .to_string()
        }),
        max_uses: link.and_then(|l| l.max_uses),
        uses: link.map_or(0, |l| l.uses),
        new_link,
    }
}

#[derive(Template)]
#[template(path = "invitations/join.html")]
struct JoinPage {
    layout: Layout,
    token: String,
    workspace: Workspace,
    organisation: String,
    approve_on_join: bool,
    already: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "invitations/join_problem.html")]
struct JoinProblemPage {
    layout: Layout,
    heading: String,
    explanation: String,
}

fn problem(
    session: &TypedSession,
    current: &CurrentUser,
    status: StatusCode,
    heading: &str,
    explanation: String,
) -> AppResult<HttpResponse> {
    crate::web::render_with(
        status,
        &JoinProblemPage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            heading: heading.to_string(),
            explanation,
        },
    )
}

/// Why this shareable link cannot be used (by this person).
enum Refusal {
    Throttled,
    Unknown,
    Dead(Dead),
    /// Their address is not one the workspace's organisation admits.
    NotInOrganisation(String),
}

fn refuse(
    session: &TypedSession,
    current: &CurrentUser,
    refusal: Refusal,
) -> AppResult<HttpResponse> {
    let ask = "Ask the workspace's admins for a new link or an invitation.";
    match refusal {
        Refusal::Throttled => problem(
            session,
            current,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Too many links that do not work were tried from your network. Wait a few minutes and try again.".into(),
        ),
        Refusal::Unknown => problem(
            session,
            current,
            StatusCode::GONE,
            "This link is not valid",
            format!("The link may have been replaced by a newer one, or copied incompletely. {ask}"),
        ),
        Refusal::Dead(dead) => problem(
            session,
            current,
            StatusCode::GONE,
            match dead {
                Dead::Disabled => "This link has been turned off",
                Dead::Expired => "This link has expired",
                Dead::UsedUp => "This link has been used up",
            },
            ask.to_string(),
        ),
        Refusal::NotInOrganisation(organisation) => problem(
            session,
            current,
            StatusCode::FORBIDDEN,
            "This link is for members of the organisation",
            format!("Only people with an email address {organisation} admits can join through this link. Ask the workspace's admins to invite you as a guest."),
        ),
    }
}

/// Looks the link up (without counting a use) and checks this person may use it.
fn check(
    conn: &mut diesel::PgConnection,
    user: &User,
    hash: &str,
    ip: &str,
) -> AppResult<Result<(JoinLink, Workspace, String), Refusal>> {
    if throttle::check_address(conn, ip)? != throttle::Verdict::Allowed {
        return Ok(Err(Refusal::Throttled));
    }
    let Some(link) = join_links::find_by_token(conn, hash)? else {
        throttle::record_address_failure(conn, ip)?;
        return Ok(Err(Refusal::Unknown));
    };
    let workspace = match workspaces::find_live(conn, link.workspace_id) {
        Ok(workspace) => workspace,
        Err(diesel::NotFound) => return Ok(Err(Refusal::Dead(Dead::Disabled))),
        Err(other) => return Err(other.into()),
    };
    if let Some(dead) = link.dead() {
        return Ok(Err(Refusal::Dead(dead)));
    }
    let organisation = organisations::find(conn, workspace.organisation_id)?.name;
    let in_organisation = organisations::is_member(conn, workspace.organisation_id, user.id)?
        || organisations::admits(conn, workspace.organisation_id, &user.email)?;
    if !in_organisation {
        return Ok(Err(Refusal::NotInOrganisation(organisation)));
    }
    Ok(Ok((link, workspace, organisation)))
}

pub async fn join_page(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: Option<CurrentUser>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let Some(current) = current else {
        return Ok(crate::web::see_other(&format!("/login?next=/join/{token}")));
    };
    let (user, hash, ip) = (
        current.user.clone(),
        sha256_hex(&token),
        crate::web::client_ip(&req),
    );
    let checked = crate::db::transaction(&state.pool, move |conn| {
        Ok(match check(conn, &user, &hash, &ip)? {
            Ok((link, workspace, organisation)) => {
                let already = workspace_members::find(conn, workspace.id, user.id)?.map(|m| {
                    if m.is_approved() {
                        "You are already a member of this workspace."
                    } else {
                        "You have already asked to join; an admin will approve you."
                    }
                });
                Ok((link, workspace, organisation, already))
            }
            Err(refusal) => Err(refusal),
        })
    })
    .await?;
    match checked {
        Err(refusal) => refuse(&session, &current, refusal),
        Ok((link, workspace, organisation, already)) => crate::web::render(&JoinPage {
            layout: Layout::signed_in(&session, &current.user, &current.nav)?,
            token,
            workspace,
            organisation,
            approve_on_join: link.approve_on_join,
            already,
        }),
    }
}

pub async fn join(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: Option<CurrentUser>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let Some(current) = current else {
        return Ok(crate::web::see_other(&format!("/login?next=/join/{token}")));
    };
    let (user, hash, ip, base_url) = (
        current.user.clone(),
        sha256_hex(&token),
        crate::web::client_ip(&req),
        state.settings.base_url.clone(),
    );
    let joined = crate::db::transaction(&state.pool, move |conn| {
        let (link, workspace, _) = match check(conn, &user, &hash, &ip)? {
            Ok(found) => found,
            Err(refusal) => return Ok(Err(refusal)),
        };
        workspaces::lock(conn, workspace.id)?;
        if workspace_members::find(conn, workspace.id, user.id)?.is_some() {
            return Ok(Ok((workspace, None)));
        }
        // Counted in one conditional UPDATE, so parallel joins never pass the maximum.
        let Some(link) = join_links::use_once(conn, &hash)? else {
            return Ok(Err(Refusal::Dead(link.dead().unwrap_or(Dead::UsedUp))));
        };
        organisations::add_member(conn, workspace.organisation_id, user.id)?;
        let event = NewAuditEvent::new(AuditAction::JoinedByLink, Some(ip))
            .actor(user.id)
            .target(user.id)
            .organisation(workspace.organisation_id)
            .workspace(workspace.id);
        if link.approve_on_join {
            workspace_members::join_approved(
                conn,
                workspace.id,
                user.id,
                WorkspaceRole::Member,
                link.created_by,
                None,
            )?;
            audit::record(
                conn,
                &event.detail(format!(
                    "{} joined through the shareable link",
                    user.full_name()
                )),
            )?;
        } else {
            workspace_members::insert(
                conn,
                workspace.id,
                user.id,
                MembershipStatus::Pending,
                WorkspaceRole::Member,
                "",
                None,
            )?
            .ok_or_else(|| {
                AppError::Unexpected(anyhow::anyhow!("membership appeared under the lock"))
            })?;
            tell_admins_of_request(
                conn,
                &base_url,
                &workspace,
                &user,
                "Joined through the workspace's shareable link.",
            )?;
            audit::record(
                conn,
                &event.detail(format!(
                    "{} asked to join through the shareable link",
                    user.full_name()
                )),
            )?;
        }
        Ok(Ok((workspace, Some(link.approve_on_join))))
    })
    .await?;
    match joined {
        Err(refusal) => refuse(&session, &current, refusal),
        Ok((workspace, outcome)) => {
            session.set_current_workspace(Some(workspace.id))?;
            session.set_flash(&match outcome {
                Some(true) => format!("You joined {}.", workspace.name),
                Some(false) => format!(
                    "Your request to join {} has been sent to its admins. You can use your personal features until they approve it.",
                    workspace.name
                ),
                None => format!("You are already in {}.", workspace.name),
            })?;
            Ok(crate::web::see_other("/"))
        }
    }
}
