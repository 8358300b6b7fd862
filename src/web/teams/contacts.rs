//! `GET/POST /organisations/{org_id}/contacts`: the organisation's contacts, searched by first
//! name or surname (`q`), each with who added them and when, possible duplicates flagged with
//! Merge for those who manage users; and the form to add one (first_name, surname, email
//! and/or mobile, `then`: `quietly` or `invite` with `workspace_id`). `POST
//! .../contacts/{contact_id}/merge` (`other`) merges a flagged duplicate into it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::contacts::{self, SHOWN};
use crate::db::models::users::User;
use crate::db::models::workspace_members;
use crate::domain::{
    ContactId, EmailAddress, MobileNumber, OrganisationId, PersonName, Text, TextRules,
    WorkspaceId, WorkspaceRole,
};
use crate::error::AppResult;
use crate::services::contacts::{self as service, Newcomer, Then};
use crate::services::{Actor, Decision};
use crate::web::admin::new_user::about_them;
use crate::web::admin::AdminNav;
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

const SEARCH: TextRules = TextRules::line("The search", 200);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ContactsQuery {
    q: String,
    /// From a workspace's People page: that workspace chosen in the form.
    workspace_id: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ContactForm {
    first_name: String,
    surname: String,
    email: String,
    mobile: String,
    then: String,
    workspace_id: String,
}

pub struct ContactRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub mobile: String,
    pub added: String,
    /// Likely the same person: (id, name) of each.
    pub duplicates: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "teams/contacts.html")]
struct ContactsPage {
    layout: Layout,
    /// The Administration menu, for those who have one.
    nav: Option<AdminNav>,
    org_id: OrganisationId,
    org_name: String,
    errors: FormErrors,
    q: String,
    rows: Vec<ContactRow>,
    may_merge: bool,
    /// The workspaces the person may put a contact in: (id, label).
    workspaces: Vec<(String, String)>,
    form: ContactForm,
}

struct Loaded {
    nav: Option<AdminNav>,
    org_name: String,
    rows: Vec<ContactRow>,
    may_merge: bool,
    workspaces: Vec<(String, String)>,
}

fn load(
    conn: &mut PgConnection,
    user: &User,
    org_id: OrganisationId,
    q: &str,
) -> AppResult<Loaded> {
    let org = permissions::use_contacts(conn, user, org_id)?;
    let nav = AdminNav::load(conn, &org, user, "contacts")?;
    let nav = nav.any_besides_contacts().then_some(nav);
    let listed = contacts::search(conn, org.id, q, SHOWN)?;
    let ids: Vec<ContactId> = listed.iter().map(|l| l.contact.id).collect();
    let mut duplicates: HashMap<ContactId, Vec<(String, String)>> = HashMap::new();
    for (a, b, name) in contacts::likely_duplicates(conn, org.id, &ids)? {
        duplicates.entry(a).or_default().push((b.to_string(), name));
    }
    let rows = listed
        .into_iter()
        .map(|l| {
            let c = &l.contact;
            ContactRow {
                id: c.id.to_string(),
                name: c.full_name(),
                email: c.email.clone().unwrap_or_default(),
                mobile: c.mobile_national().unwrap_or_default(),
                added: format!(
                    "{} by {}",
                    c.added_at.format("%-d %b %Y"),
                    l.added_by
                        .clone()
                        .unwrap_or_else(|| "a former member".into())
                ),
                duplicates: duplicates.remove(&c.id).unwrap_or_default(),
            }
        })
        .collect();
    let workspaces = workspace_members::of_user(conn, user.id)?
        .into_iter()
        .filter(|(w, m)| {
            w.organisation_id == org.id && m.is_approved() && m.role != WorkspaceRole::Guest
        })
        .map(|(w, _)| {
            let label = if w.guests_allowed {
                w.name.clone()
            } else {
                format!("{} (takes no guests)", w.name)
            };
            (w.id.to_string(), label)
        })
        .collect();
    Ok(Loaded {
        may_merge: permissions::merge_contacts(conn, user, org.id).is_ok(),
        nav,
        org_name: org.name,
        rows,
        workspaces,
    })
}

async fn render(
    signed: &Signed,
    org_id: OrganisationId,
    q: String,
    errors: FormErrors,
    status: StatusCode,
    form: ContactForm,
) -> AppResult<HttpResponse> {
    let mut errors = errors;
    let search = errors
        .check("q", Text::parse(&q, SEARCH))
        .unwrap_or_default();
    let page = signed
        .page(move |conn, frame| load(conn, &frame.user, org_id, search.as_str()))
        .await?;
    let loaded = page.data;
    crate::web::render_with(
        status,
        &ContactsPage {
            layout: page.layout,
            nav: loaded.nav,
            org_id,
            org_name: loaded.org_name,
            errors,
            q,
            rows: loaded.rows,
            may_merge: loaded.may_merge,
            workspaces: loaded.workspaces,
            form,
        },
    )
}

pub async fn contacts_page(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    query: web::Query<ContactsQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let form = ContactForm {
        then: if query.workspace_id.is_empty() {
            "quietly".into()
        } else {
            "invite".into()
        },
        workspace_id: query.workspace_id,
        ..ContactForm::default()
    };
    let errors = FormErrors::default();
    let status = errors.status();
    render(&signed, org_id.into_inner(), query.q, errors, status, form).await
}

impl ContactForm {
    /// The form's own rules; whether the workspace may be used is the service's.
    fn parse(&self, errors: &mut FormErrors) -> Option<Newcomer> {
        let first_name = errors.check(
            "first_name",
            PersonName::parse(&self.first_name, "first name").map_err(about_them),
        );
        let surname = errors.check(
            "surname",
            PersonName::parse(&self.surname, "surname").map_err(about_them),
        );
        let email = match self.email.trim() {
            "" => Some(None),
            typed => errors.check("email", EmailAddress::parse(typed)).map(Some),
        };
        let mobile = match self.mobile.trim() {
            "" => Some(None),
            typed => errors.check("mobile", MobileNumber::parse(typed)).map(Some),
        };
        if matches!((&email, &mobile), (Some(None), Some(None))) {
            errors.add(
                "email",
                "Enter an email address or a UK mobile number, or both",
            );
        }
        let workspace = match self.workspace_id.trim() {
            "" => None,
            typed => match typed.parse::<WorkspaceId>() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.add("workspace_id", "Choose one of your workspaces");
                    None
                }
            },
        };
        let then = match self.then.as_str() {
            "quietly" | "" => Some(Then::Quietly(workspace)),
            "invite" => match workspace {
                Some(id) => Some(Then::Invite(id)),
                None => {
                    errors.add(
                        "workspace_id",
                        "Choose the workspace to invite them to, or add them quietly",
                    );
                    None
                }
            },
            _ => {
                errors.add("then", "Choose whether to invite them");
                None
            }
        };
        Some(Newcomer {
            first_name: first_name?,
            surname: surname?,
            email: email?,
            mobile: mobile?,
            then: then?,
        })
        .filter(|_| errors.is_empty())
    }
}

pub async fn add(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    form: web::Form<ContactForm>,
) -> AppResult<HttpResponse> {
    let (org_id, form) = (org_id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(newcomer) = form.parse(&mut errors) {
        let (base_url, ip) = (signed.base_url(), signed.ip.clone());
        let then = newcomer.then;
        let decision = signed
            .decide(move |conn, user| {
                service::add(
                    conn,
                    &base_url,
                    &Actor::person(user, &ip),
                    org_id,
                    &newcomer,
                )
            })
            .await?;
        match decision {
            Decision::Done(added) => {
                let location = match then {
                    Then::Quietly(Some(ws)) | Then::Invite(ws) => {
                        format!("/workspaces/{ws}/people#contact-{}", added.contact.id)
                    }
                    Then::Quietly(None) => format!(
                        "/organisations/{org_id}/contacts#contact-{}",
                        added.contact.id
                    ),
                };
                return signed.done(&added.message, &location);
            }
            Decision::Refused(refusal) => errors.add(refusal.field, refusal.reason),
        }
    }
    let status = errors.status();
    render(&signed, org_id, String::new(), errors, status, form).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MergeForm {
    other: String,
}

pub async fn merge(
    signed: Signed,
    path: web::Path<(OrganisationId, ContactId)>,
    form: web::Form<MergeForm>,
) -> AppResult<HttpResponse> {
    let (org_id, kept) = path.into_inner();
    let Ok(other) = form.other.trim().parse::<ContactId>() else {
        return refused(&signed, org_id, "Choose the contact to merge".into()).await;
    };
    let ip = signed.ip.clone();
    let decision = signed
        .decide(move |conn, user| {
            service::merge(conn, &Actor::person(user, &ip), org_id, kept, other)
        })
        .await?;
    match decision {
        Decision::Done(flash) => signed.done(
            &flash,
            &format!("/organisations/{org_id}/contacts#contact-{kept}"),
        ),
        Decision::Refused(reason) => refused(&signed, org_id, reason).await,
    }
}

/// The contacts page again, saying why a merge was refused (409).
async fn refused(
    signed: &Signed,
    org_id: OrganisationId,
    reason: String,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    errors.add("contacts", reason);
    let form = ContactForm {
        then: "quietly".into(),
        ..ContactForm::default()
    };
    render(
        signed,
        org_id,
        String::new(),
        errors,
        StatusCode::CONFLICT,
        form,
    )
    .await
}
