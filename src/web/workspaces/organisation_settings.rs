//! `GET /organisations/{org_id}/settings`: the organisation's allowed email domains and whether
//! its members may create workspaces, for a trust administrator. `POST` saves them; a list that
//! would no longer admit the administrator's own address is refused, so they cannot lock
//! themselves out.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations::{self, Organisation};
use crate::domain::{EmailAddress, OrganisationId};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

/// The checkbox's value when ticked.
const YES: &str = "yes";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    domains: String,
    /// "yes" when ticked, absent otherwise.
    members_may_create_workspaces: String,
}

impl SettingsForm {
    fn members_may_create(&self) -> bool {
        self.members_may_create_workspaces == YES
    }
}

#[derive(Template)]
#[template(path = "workspaces/organisation_settings.html")]
struct SettingsPage {
    layout: Layout,
    org: Organisation,
    errors: FormErrors,
    form: SettingsForm,
}

fn path(org: OrganisationId) -> String {
    format!("/organisations/{org}/settings")
}

pub async fn settings_form(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let (user, org_id) = (current.user.clone(), org_id.into_inner());
    let (org, domains) = crate::db::run(&state.pool, move |conn| {
        let org = permissions::administer_organisation(conn, &user, org_id)?;
        let domains = organisations::domains(conn, org.id)?;
        Ok((org, domains))
    })
    .await?;
    let form = SettingsForm {
        domains: domains.join("\n"),
        members_may_create_workspaces: if org.members_may_create_workspaces {
            YES.to_string()
        } else {
            String::new()
        },
    };
    crate::web::render(&SettingsPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        org,
        errors: FormErrors::default(),
        form,
    })
}

pub async fn update(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
    form: web::Form<SettingsForm>,
) -> AppResult<HttpResponse> {
    let (user, org_id, form, ip) = (
        current.user.clone(),
        org_id.into_inner(),
        form.into_inner(),
        crate::web::client_ip(&req),
    );
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let org = permissions::administer_organisation(conn, &user, org_id)?;
        let mut errors = FormErrors::default();
        let domains = errors.check("domains", crate::domain::EmailDomains::parse(&form.domains));
        if let (Some(domains), Ok(email)) = (&domains, EmailAddress::parse(&user.email)) {
            if !domains.iter().any(|d| email.is_in_domain(d)) {
                errors.add(
                    "domains",
                    format!("Keep a domain that admits your own address, {email}"),
                );
            }
        }
        let Some(domains) = domains.filter(|_| errors.is_empty()) else {
            return Ok(Err((org, errors, form)));
        };
        let members_may_create = form.members_may_create();
        organisations::update_settings(conn, org.id, &domains, members_may_create)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::OrganisationSettingsChanged, Some(ip))
                .actor(user.id)
                .organisation(org.id)
                .detail(format!(
                    "domains: {}; members may create workspaces: {}",
                    domains.join(", "),
                    if members_may_create { "yes" } else { "no" }
                )),
        )?;
        Ok(Ok(org.id))
    })
    .await?;
    match outcome {
        Ok(org_id) => {
            session.set_flash("Organisation settings saved.")?;
            Ok(crate::web::see_other(&path(org_id)))
        }
        Err((org, errors, form)) => crate::web::render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SettingsPage {
                layout: Layout::signed_in(&session, &current.user, &current.nav)?,
                org,
                errors,
                form,
            },
        ),
    }
}
