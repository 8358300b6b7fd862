//! `/login`: email and password, the first of two factors. An unknown address and a wrong
//! password get the same answer; both count against the address typed and the client's address.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::throttle;
use crate::auth::{password, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::{totp, users};
use crate::domain::{EmailAddress, NextPath};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    errors: FormErrors,
    email: String,
    next: String,
}

const WRONG_CREDENTIALS: &str = "Enter a correct email address and password";

pub async fn login_form(
    session: TypedSession,
    query: web::Query<LoginQuery>,
) -> AppResult<HttpResponse> {
    if session.user_id()?.is_some() {
        return Ok(crate::web::see_other("/"));
    }
    crate::web::render(&LoginPage {
        layout: Layout::anonymous(&session)?,
        errors: FormErrors::default(),
        email: String::new(),
        next: NextPath::parse(&query.next)
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
    })
}

fn refuse(
    session: &TypedSession,
    status: StatusCode,
    form: LoginForm,
    message: &str,
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    errors.add("email", message);
    crate::web::render_with(
        status,
        &LoginPage {
            layout: Layout::anonymous(session)?,
            errors,
            email: form.email,
            next: NextPath::parse(&form.next)
                .map(|n| n.as_str().to_string())
                .unwrap_or_default(),
        },
    )
}

pub async fn log_in(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    form: web::Form<LoginForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let ip = crate::web::client_ip(&req);
    let account_key = throttle::account_key(&form.email);

    let verdict = {
        let (key, ip) = (account_key.clone(), ip.clone());
        crate::db::run(&state.pool, move |conn| throttle::check(conn, &key, &ip)).await?
    };
    if let Some(message) = throttle::message(verdict) {
        return refuse(&session, StatusCode::TOO_MANY_REQUESTS, form, &message);
    }

    let user = match EmailAddress::parse(&form.email) {
        Ok(email) => {
            crate::db::run(&state.pool, move |conn| {
                Ok(users::find_by_email(conn, &email)?)
            })
            .await?
        }
        Err(_) => None,
    };
    let stored_hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let matches = password::verify(SecretString::from(form.password.clone()), stored_hash).await?;

    let target = user.as_ref().map(|u| u.id);
    let Some(user) = user.filter(|_| matches) else {
        let (key, ip) = (account_key, ip);
        crate::db::transaction(&state.pool, move |conn| {
            throttle::record_failure(conn, &key, &ip)?;
            let mut event = NewAuditEvent::new(AuditAction::SignInFailed, Some(ip))
                .detail("wrong email or password");
            if let Some(target) = target {
                event = event.target(target);
            }
            audit::record(conn, &event)?;
            Ok(())
        })
        .await?;
        return refuse(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            WRONG_CREDENTIALS,
        );
    };

    if !user.is_active() {
        return refuse(
            &session,
            StatusCode::FORBIDDEN,
            form,
            "Your account has been deactivated. Contact your trust administrator",
        );
    }
    if !user.is_verified() {
        let base_url = state.settings.base_url.clone();
        let unverified = user.clone();
        crate::db::transaction(&state.pool, move |conn| {
            super::signup::send_verification(
                conn,
                &base_url,
                unverified.id,
                &unverified.first_name,
                &unverified.email,
            )
        })
        .await?;
        return refuse(
            &session,
            StatusCode::FORBIDDEN,
            form,
            "Confirm your email address before you sign in. We have sent you a new link",
        );
    }

    let (user_id, key) = (user.id, account_key);
    let enrolled = crate::db::transaction(&state.pool, move |conn| {
        throttle::record_success(conn, &key)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::PasswordAccepted, Some(ip))
                .actor(user_id)
                .target(user_id),
        )?;
        Ok(totp::is_enrolled(conn, user_id)?)
    })
    .await?;
    let next = NextPath::parse(&form.next);
    session.begin_second_factor(user.id, next.as_ref().map(NextPath::as_str))?;
    Ok(crate::web::see_other(if enrolled {
        "/login/two-factor"
    } else {
        "/account/two-factor/setup"
    }))
}

/// Where to go once both factors have passed.
pub fn after_sign_in(next: Option<String>) -> String {
    next.and_then(|n| NextPath::parse(&n))
        .map_or_else(|| "/".to_string(), |n| n.as_str().to_string())
}
