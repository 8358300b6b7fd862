//! `GET /organisations/{org_id}/settings`: the organisation's allowed email domains, whether
//! its members may create workspaces, its ODS code and how its members sign in, for a trust
//! administrator. `POST` saves them (`services::organisations::update_settings`).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::organisations::{self, Organisation};
use crate::domain::{EmailDomains, OdsCode, OrganisationId, SignInPolicy};
use crate::error::AppResult;
use crate::services::organisations::{self as organisation_service, Settings};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

/// The checkbox's value when ticked.
const YES: &str = "yes";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsForm {
    domains: String,
    /// "yes" when ticked, absent otherwise.
    members_may_create_workspaces: String,
    /// Absent: unchanged (a form from before the field); blank: no code.
    ods_code: Option<String>,
    /// `password_or_sso` or `sso_only`; absent: unchanged.
    sign_in_policy: Option<String>,
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

async fn render(
    signed: &Signed,
    org: OrganisationId,
    errors: FormErrors,
    form: Option<SettingsForm>,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let org = permissions::administer_organisation(conn, &frame.user, org)?;
            let domains = organisations::domains(conn, org.id)?;
            Ok((org, domains))
        })
        .await?;
    let (org, domains) = page.data;
    let form = form.unwrap_or_else(|| SettingsForm {
        domains: domains.join("\n"),
        members_may_create_workspaces: if org.members_may_create_workspaces {
            YES.to_string()
        } else {
            String::new()
        },
        ods_code: Some(org.ods_code.clone().unwrap_or_default()),
        sign_in_policy: Some(org.sign_in_policy.code().to_string()),
    });
    crate::web::render_with(
        errors.status(),
        &SettingsPage {
            layout: page.layout,
            org,
            errors,
            form,
        },
    )
}

pub async fn settings_form(
    signed: Signed,
    org: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    render(&signed, org.into_inner(), FormErrors::default(), None).await
}

pub async fn update(
    signed: Signed,
    org: web::Path<OrganisationId>,
    form: web::Form<SettingsForm>,
) -> AppResult<HttpResponse> {
    let (org, form) = (org.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    let domains = errors.check("domains", EmailDomains::parse(&form.domains));
    let ods_code = errors.check(
        "ods_code",
        form.ods_code
            .as_deref()
            .map(OdsCode::parse_optional)
            .transpose(),
    );
    let policy = errors.check(
        "sign_in_policy",
        form.sign_in_policy
            .as_deref()
            .map(SignInPolicy::parse)
            .transpose()
            .map_err(|_| crate::domain::DomainError::new("Choose how members sign in")),
    );
    if let (Some(domains), Some(ods_code), Some(sign_in_policy)) = (domains, ods_code, policy) {
        let settings = Settings {
            domains,
            members_may_create_workspaces: form.members_may_create(),
            ods_code,
            sign_in_policy,
        };
        let ip = signed.ip.clone();
        let decision = signed
            .decide(move |conn, user| {
                organisation_service::update_settings(
                    conn,
                    &Actor::person(user, &ip),
                    org,
                    &settings,
                )
            })
            .await?;
        match decision {
            Decision::Done(message) => return signed.done(&message, &path(org)),
            Decision::Refused(refusal) => errors.add(refusal.field, refusal.reason),
        }
    }
    render(&signed, org, errors, Some(form)).await
}
