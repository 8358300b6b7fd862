//! `GET/POST /organisations/{org_id}/admin/users/new`: "Add new user". Save creates the
//! account and queues a 24-hour email in which the person confirms the address and chooses a
//! password, then opens the Roles tab. "Medical secretary" can only be set here. An address
//! that already has an account refers to it instead of creating another.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::accounts::{self, Actor, Newcomer, Outcome};
use super::{user_path, AdminNav};
use crate::auth::{permissions, TypedSession};
use crate::domain::{DomainError, EmailAddress, OrganisationId, PersonName};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
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

pub async fn new_user_form(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let (user, org_id) = (current.user.clone(), org_id.into_inner());
    let nav = crate::db::run(&state.pool, move |conn| {
        let org = permissions::administer_users(conn, &user, org_id)?;
        AdminNav::load(conn, &org, &user, "users")
    })
    .await?;
    crate::web::render(&NewUserPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        nav,
        errors: FormErrors::default(),
        form: NewUserForm::default(),
    })
}

pub async fn create(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
    form: web::Form<NewUserForm>,
) -> AppResult<HttpResponse> {
    let (user, org_id, form) = (current.user.clone(), org_id.into_inner(), form.into_inner());
    let ip = crate::web::client_ip(&req);
    let base_url = state.settings.base_url.clone();
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let org = permissions::administer_users(conn, &user, org_id)?;
        let mut errors = FormErrors::default();
        let first_name = errors.check(
            "first_name",
            PersonName::parse(&form.first_name, "first name").map_err(about_them),
        );
        let surname = errors.check(
            "surname",
            PersonName::parse(&form.surname, "surname").map_err(about_them),
        );
        let email = errors.check("email", EmailAddress::parse(&form.email));
        if let Some(email) = &email {
            if !accounts::admits(conn, &org, email)? {
                errors.add(
                    "email",
                    format!("{email} is not in the organisation's email domains"),
                );
            }
        }
        let (Some(first_name), Some(surname), Some(email), true) =
            (first_name, surname, email, errors.is_empty())
        else {
            let nav = AdminNav::load(conn, &org, &user, "users")?;
            return Ok(Err((nav, errors, form)));
        };
        let newcomer = Newcomer {
            first_name,
            surname,
            email,
            medical_secretary: form.medical_secretary(),
            imported: false,
        };
        let actor = Actor {
            user: Some(&user),
            ip: Some(ip),
        };
        let outcome = accounts::create_or_refer(conn, &base_url, &org, &newcomer, &actor)?;
        Ok(Ok((org.id, outcome)))
    })
    .await?;
    match outcome {
        Ok((org_id, Outcome::Created(created))) => {
            session.set_flash(&format!(
                "Account created for {}. We have emailed {} a link, valid for 24 hours, to confirm the address and choose a password.",
                created.full_name(),
                created.email
            ))?;
            Ok(crate::web::see_other(&format!(
                "{}/roles",
                user_path(org_id, created.id)
            )))
        }
        Ok((org_id, Outcome::Existing { user, joined })) => {
            session.set_flash(&if joined {
                format!(
                    "{} already has an account, {}: it is now in this organisation.",
                    user.email,
                    user.full_name()
                )
            } else {
                format!(
                    "{} already has an account in this organisation: {}.",
                    user.email,
                    user.full_name()
                )
            })?;
            Ok(crate::web::see_other(&user_path(org_id, user.id)))
        }
        Err((nav, errors, form)) => crate::web::render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &NewUserPage {
                layout: Layout::signed_in(&session, &current.user, &current.nav)?,
                nav,
                errors,
                form,
            },
        ),
    }
}

/// The name rules' messages speak to the person themselves; here someone else types them.
fn about_them(e: DomainError) -> DomainError {
    DomainError::new(
        e.0.replace("Enter your", "Enter their")
            .replace("Your ", "Their "),
    )
}
