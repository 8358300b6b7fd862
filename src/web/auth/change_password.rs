//! `/account/password`: a signed-in person changes their password. It needs the current one
//! (a wrong one counts against the account like a failed sign-in), ends every other session of
//! the account, and tells the owner by email. This browser stays signed in on a fresh session.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::{password, throttle, CurrentUser, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::sessions;
use crate::db::models::users;
use crate::domain::Password;
use crate::error::AppResult;
use crate::mail::{self, messages};
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ChangePasswordForm {
    current_password: String,
    password: String,
}

#[derive(Template)]
#[template(path = "auth/change_password.html")]
struct ChangePasswordPage {
    layout: Layout,
    errors: FormErrors,
}

const WRONG_CURRENT_PASSWORD: &str = "Enter your current password correctly";
const SAME_AS_CURRENT: &str = "Your new password must be different from your current one";

pub async fn change_password_form(
    session: TypedSession,
    current: CurrentUser,
) -> AppResult<HttpResponse> {
    crate::web::render(&ChangePasswordPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        errors: FormErrors::default(),
    })
}

/// The form again with its errors; the typed passwords are never sent back.
fn refuse(
    session: &TypedSession,
    current: &CurrentUser,
    status: StatusCode,
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    crate::web::render_with(
        status,
        &ChangePasswordPage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            errors,
        },
    )
}

pub async fn change_password(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    form: web::Form<ChangePasswordForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let user = current.user.clone();
    let ip = crate::web::client_ip(&req);
    let account_key = throttle::account_key(&user.email);

    let verdict = {
        let (key, ip) = (account_key.clone(), ip.clone());
        crate::db::run(&state.pool, move |conn| throttle::check(conn, &key, &ip)).await?
    };
    if let Some(message) = throttle::message(verdict) {
        let mut errors = FormErrors::default();
        errors.add("current_password", message);
        return refuse(&session, &current, StatusCode::TOO_MANY_REQUESTS, errors);
    }

    let matches = password::verify(
        SecretString::from(form.current_password.clone()),
        user.password_hash.clone(),
    )
    .await?;
    let mut errors = FormErrors::default();
    if !matches {
        let (key, ip) = (account_key, ip.clone());
        crate::db::run(&state.pool, move |conn| {
            throttle::record_failure(conn, &key, &ip)
        })
        .await?;
        errors.add("current_password", WRONG_CURRENT_PASSWORD);
    }
    let new_password = errors.check(
        "password",
        Password::parse(
            &form.password,
            &[&user.first_name, &user.surname, &user.email],
        ),
    );
    if matches && form.password == form.current_password {
        errors.add("password", SAME_AS_CURRENT);
    }
    let Some(new_password) = new_password.filter(|_| errors.is_empty()) else {
        return refuse(&session, &current, StatusCode::UNPROCESSABLE_ENTITY, errors);
    };

    let new_hash = password::hash(new_password).await?;
    let base_url = state.settings.base_url.clone();
    let (user_id, first_name, email) = (user.id, user.first_name.clone(), user.email.clone());
    crate::db::transaction(&state.pool, move |conn| {
        users::set_password_hash(conn, user_id, &new_hash)?;
        // Every session of the account ends, this one too: it is replaced below.
        sessions::delete_for_user(conn, user_id)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::PasswordChanged, Some(ip))
                .actor(user_id)
                .target(user_id),
        )?;
        let notice = messages::PasswordChanged {
            first_name,
            reset_link: format!("{base_url}/password/forgot"),
        };
        mail::enqueue(conn, &email, &notice)?;
        Ok(())
    })
    .await?;
    // A new session id, saved as a new row when the response goes out: after the deletion above.
    session.complete_sign_in(user_id)?;
    session.set_flash("Your password has been changed. Other devices have been signed out.")?;
    Ok(crate::web::see_other("/"))
}
