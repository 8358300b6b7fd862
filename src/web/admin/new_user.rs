//! `GET/POST /organisations/{org_id}/admin/users/new`: "Add new user". Save creates the
//! account and queues a 24-hour email in which the person confirms the address and chooses a
//! password, then opens the Roles tab. "Medical secretary" can only be set here. An address of
//! someone already in the organisation refers to them; an address with an account outside it
//! is sent an invitation to join, and the administrator is told only that.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::{user_path, AdminNav};
use crate::auth::permissions;
use crate::domain::{DomainError, EmailAddress, OrganisationId, PersonName};
use crate::error::AppResult;
use crate::services::accounts::{self, Added, Newcomer};
use crate::services::organisation_invitations;
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewUserForm {
    first_name: String,
    surname: String,
    email: String,
    /// Any value when ticked, absent otherwise.
    medical_secretary: String,
}

impl NewUserForm {
    fn medical_secretary(&self) -> bool {
        !self.medical_secretary.is_empty()
    }
}

#[derive(Template)]
#[template(path = "admin/new_user.html")]
struct NewUserPage {
    layout: Layout,
    nav: AdminNav,
    errors: FormErrors,
    form: NewUserForm,
}

async fn render(
    signed: &Signed,
    org_id: OrganisationId,
    errors: FormErrors,
    form: NewUserForm,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let org = permissions::administer_users(conn, &frame.user, org_id)?;
            AdminNav::load(conn, &org, &frame.user, "users")
        })
        .await?;
    crate::web::render_with(
        errors.status(),
        &NewUserPage {
            layout: page.layout,
            nav: page.data,
            errors,
            form,
        },
    )
}

pub async fn new_user_form(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let form = NewUserForm::default();
    render(&signed, org_id.into_inner(), FormErrors::default(), form).await
}

impl NewUserForm {
    /// The form's own rules; whether the organisation admits the address is the service's.
    fn parse(&self, errors: &mut FormErrors) -> Option<Newcomer> {
        let first_name = errors.check(
            "first_name",
            PersonName::parse(&self.first_name, "first name").map_err(about_them),
        );
        let surname = errors.check(
            "surname",
            PersonName::parse(&self.surname, "surname").map_err(about_them),
        );
        let email = errors.check("email", EmailAddress::parse(&self.email));
        Some(Newcomer {
            first_name: first_name?,
            surname: surname?,
            email: email?,
            medical_secretary: self.medical_secretary(),
            imported: false,
        })
    }
}

pub async fn create(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    form: web::Form<NewUserForm>,
) -> AppResult<HttpResponse> {
    let (org_id, form) = (org_id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(newcomer) = form.parse(&mut errors) {
        let (base_url, ip) = (signed.base_url(), signed.ip.clone());
        let decision = signed
            .decide(move |conn, user| {
                let actor = Actor::person(user, &ip);
                accounts::add(conn, &base_url, &actor, org_id, &newcomer)
            })
            .await?;
        match decision {
            Decision::Done(account) => return added(&signed, org_id, account),
            // The only refusal: the address is outside the organisation's domains.
            Decision::Refused(reason) => errors.add("email", reason),
        }
    }
    render(&signed, org_id, errors, form).await
}

/// To the new account's Roles tab, to the page of the person already there, or (an account
/// outside the organisation, invited) back to the Users page saying only that it was sent.
fn added(signed: &Signed, org_id: OrganisationId, added: Added) -> AppResult<HttpResponse> {
    match added {
        Added::Created(created) => signed.done(
            &format!(
                "Account created for {}. We have emailed {} a link, valid for 24 hours, to confirm the address and choose a password.",
                created.full_name(),
                created.email
            ),
            &format!("{}/roles", user_path(org_id, created.id)),
        ),
        Added::AlreadyMember(user) => signed.done(
            &format!(
                "{} already has an account in this organisation: {}.",
                user.email,
                user.full_name()
            ),
            &user_path(org_id, user.id),
        ),
        Added::Invited { email } => signed.done(
            &format!(
                "{} They appear here once they accept it.",
                organisation_invitations::sent_to(&email)
            ),
            &format!("/organisations/{org_id}/admin/users"),
        ),
    }
}

/// The name rules' messages speak to the person themselves; here someone else types them.
pub(crate) fn about_them(e: DomainError) -> DomainError {
    DomainError::new(
        e.0.replace("Enter your", "Enter their")
            .replace("Your ", "Their "),
    )
}
