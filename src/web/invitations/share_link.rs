//! The shareable workspace link. Admins: `POST /workspaces/{id}/link/enable` | `/regenerate`
//! | `/disable`, with an optional expiry date, maximum number of uses, and whether people who
//! join through it are approved at once. Anyone: `GET/POST /join/{token}` — a member of the
//! workspace's organisation (or someone whose address it admits) joins as pending, or approved
//! where the admin chose so. Only the token's hash is kept, so the link is shown once, in the
//! response to the form that made it. The decisions are in `services::join_links`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, NaiveTime, Utc};
use serde::Deserialize;

use super::{link_path, sign_in_first, signed_layout};
use crate::db::models::join_links::{Dead, JoinLink, LinkSettings};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::Workspace;
use crate::domain::{token::sha256_hex, WorkspaceId};
use crate::error::AppResult;
use crate::services::join_links::{
    self as join_links_service, Found, Joining, LinkChange, Unusable,
};
use crate::services::Actor;
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;
use crate::web::workspaces::settings::settings_page_after_link_form;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkForm {
    /// Optional, YYYY-MM-DD: the link works until the end of that day (or the date input's
    /// three boxes below).
    pub expires_on: String,
    #[serde(rename = "expires_on-day")]
    pub expires_on_day: String,
    #[serde(rename = "expires_on-month")]
    pub expires_on_month: String,
    #[serde(rename = "expires_on-year")]
    pub expires_on_year: String,
    /// Optional: how many people may join through it.
    pub max_uses: String,
    /// "yes": people who join are approved at once.
    pub approve_on_join: String,
}

impl LinkForm {
    /// The expiry date as one ISO field, whichever way it came.
    pub fn expires_on(&self) -> String {
        crate::web::forms::date_field(
            &self.expires_on,
            &self.expires_on_day,
            &self.expires_on_month,
            &self.expires_on_year,
        )
    }

    /// The date input's boxes as typed, or the date split up.
    pub fn expires_on_parts(&self) -> (String, String, String) {
        crate::web::forms::date_parts(
            &self.expires_on,
            &self.expires_on_day,
            &self.expires_on_month,
            &self.expires_on_year,
        )
    }

    fn parse(&self, errors: &mut FormErrors) -> Option<LinkSettings> {
        let expires_at = match self.expires_on().as_str() {
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
                    errors.add("expires_on", "Enter a real expiry date, like 31 3 2027");
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
        return settings_page_after_link_form(&signed, id, errors, form).await;
    };
    let ip = signed.ip.clone();
    let key = signed.state.cookie_key.master().to_vec();
    signed
        .change(move |conn, user| {
            join_links_service::make(conn, &Actor::person(user, &ip), id, &settings, change, &key)
        })
        .await?;
    // Post/Redirect/Get: the settings page derives the link again (only its hash is stored).
    signed.done(
        match change {
            LinkChange::Enable => "Shareable link turned on. Share it with your team.",
            LinkChange::Regenerate => "New shareable link made. The old one no longer works.",
        },
        &format!("/workspaces/{id}/settings#share-link"),
    )
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
    /// The link itself, while it works (its admins see it for as long as it lives).
    pub url: Option<String>,
}

/// The link as its admins see it; `key` is the server's, from which its token is derived.
pub fn view(link: Option<&JoinLink>, key: &[u8], base_url: &str) -> LinkView {
    let url = link.filter(|l| l.dead().is_none()).map(|l| {
        format!(
            "{base_url}/join/{}",
            join_links_service::link_token(key, l).plain()
        )
    });
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
        url,
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

/// The page saying why this link cannot be used (by this person).
fn refuse(layout: Layout, why: Unusable) -> AppResult<HttpResponse> {
    let ask = "Ask the workspace's admins for a new link or an invitation.";
    let (status, heading, explanation) = match why {
        Unusable::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Too many links that do not work were tried from your network. Wait a few minutes and try again.".into(),
        ),
        Unusable::Unknown => (
            StatusCode::GONE,
            "This link is not valid",
            format!("The link may have been replaced by a newer one, or copied incompletely. {ask}"),
        ),
        Unusable::Dead(dead) => (
            StatusCode::GONE,
            match dead {
                Dead::Disabled => "This link has been turned off",
                Dead::Expired => "This link has expired",
                Dead::UsedUp => "This link has been used up",
            },
            ask.to_string(),
        ),
        Unusable::NotInOrganisation(organisation) => (
            StatusCode::FORBIDDEN,
            "This link is for members of the organisation",
            format!("Only people with an email address {organisation} admits can join through this link. Ask the workspace's admins to invite you as a guest."),
        ),
        Unusable::Barred(organisation) => (
            StatusCode::FORBIDDEN,
            "You cannot join through this link",
            format!("{organisation}'s administrators have suspended or ended your access. Only they can let you back in: contact them."),
        ),
    };
    crate::web::render_with(
        status,
        &JoinProblemPage {
            layout,
            heading: heading.to_string(),
            explanation,
        },
    )
}

pub async fn join_page(
    signed: Option<Signed>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let Some(signed) = signed else {
        return Ok(sign_in_first(&link_path("/join", &token)));
    };
    let (hash, ip) = (sha256_hex(&token), signed.ip.clone());
    let page = signed
        .page(move |conn, frame| {
            let actor = Actor::person(&frame.user, &ip);
            let found = join_links_service::look_up(conn, &actor, &hash)?;
            let membership = match &found {
                Found::Usable(usable) => {
                    workspace_members::find(conn, usable.workspace.id, frame.user.id)?
                }
                Found::Unusable(_) => None,
            };
            Ok((found, membership))
        })
        .await?;
    match page.data {
        (Found::Unusable(why), _) => refuse(page.layout, why),
        (Found::Usable(usable), membership) => crate::web::render(&JoinPage {
            layout: page.layout,
            token,
            workspace: usable.workspace,
            organisation: usable.organisation,
            approve_on_join: usable.link.approve_on_join,
            already: membership.map(|m| {
                if m.is_approved() {
                    "You are already a member of this workspace."
                } else {
                    "You have already asked to join; an admin will approve you."
                }
            }),
        }),
    }
}

pub async fn join(signed: Option<Signed>, token: web::Path<String>) -> AppResult<HttpResponse> {
    let token = token.into_inner();
    let Some(signed) = signed else {
        return Ok(sign_in_first(&link_path("/join", &token)));
    };
    let (hash, ip, base_url) = (sha256_hex(&token), signed.ip.clone(), signed.base_url());
    let joining = signed
        .change(move |conn, user| {
            join_links_service::join(conn, &base_url, &Actor::person(user, &ip), &hash)
        })
        .await?;
    let (workspace, flash) = match joining {
        Joining::Unusable(why) => return refuse(signed_layout(&signed).await?, why),
        Joining::Joined {
            workspace,
            approved: true,
        } => {
            let flash = format!("You joined {}.", workspace.name);
            (workspace, flash)
        }
        Joining::Joined {
            workspace,
            approved: false,
        } => {
            let flash = format!(
                "Your request to join {} has been sent to its admins. You can use your personal features until they approve it.",
                workspace.name
            );
            (workspace, flash)
        }
        Joining::AlreadyIn(workspace) => {
            let flash = format!("You are already in {}.", workspace.name);
            (workspace, flash)
        }
    };
    signed.session.set_current_workspace(Some(workspace.id))?;
    signed.done(&flash, "/")
}
