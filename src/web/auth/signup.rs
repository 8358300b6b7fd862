//! `/signup`: create an account with an email address an organisation admits. The answer is
//! the same whether or not the address already has an account; its owner gets an email instead.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{password, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::{organisations, tokens, users};
use crate::domain::{EmailAddress, Password, PersonName, Token, TokenPurpose, UserId};
use crate::error::AppResult;
use crate::mail::{self, messages};
use crate::startup::AppState;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    first_name: String,
    surname: String,
    email: String,
    password: String,
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    layout: Layout,
    errors: FormErrors,
    first_name: String,
    surname: String,
    email: String,
}

#[derive(Template)]
#[template(path = "auth/check_email.html")]
struct CheckEmailPage {
    layout: Layout,
    heading: &'static str,
    explanation: &'static str,
}

pub async fn signup_form(session: TypedSession) -> AppResult<HttpResponse> {
    crate::web::render(&SignupPage {
        layout: Layout::anonymous(&session)?,
        errors: FormErrors::default(),
        first_name: String::new(),
        surname: String::new(),
        email: String::new(),
    })
}

/// A sign-up that passed every rule.
struct ValidSignup {
    first_name: PersonName,
    surname: PersonName,
    email: EmailAddress,
    password: Password,
}

async fn parse(state: &AppState, form: &SignupForm) -> AppResult<Result<ValidSignup, FormErrors>> {
    let mut errors = FormErrors::default();
    let first_name = errors.check(
        "first_name",
        PersonName::parse(&form.first_name, "first name"),
    );
    let surname = errors.check("surname", PersonName::parse(&form.surname, "surname"));
    let email = errors.check("email", EmailAddress::parse(&form.email));
    if let Some(email) = email.clone() {
        let admitted = crate::db::run(&state.pool, move |conn| {
            Ok(organisations::admitting(conn, &email)?)
        })
        .await?;
        if admitted.is_empty() {
            errors.add(
                "email",
                "Enter your NHS email address, like name@nhs.net. Staffroom only accepts addresses from organisations that use it",
            );
        }
    }
    let password = errors.check(
        "password",
        Password::parse(
            &form.password,
            &[&form.first_name, &form.surname, &form.email],
        ),
    );
    Ok(match (first_name, surname, email, password) {
        (Some(first_name), Some(surname), Some(email), Some(password)) if errors.is_empty() => {
            Ok(ValidSignup {
                first_name,
                surname,
                email,
                password,
            })
        }
        _ => Err(errors),
    })
}

pub async fn sign_up(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    form: web::Form<SignupForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let signup = match parse(&state, &form).await? {
        Ok(signup) => signup,
        Err(errors) => {
            return crate::web::render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SignupPage {
                    layout: Layout::anonymous(&session)?,
                    errors,
                    first_name: form.first_name,
                    surname: form.surname,
                    email: form.email,
                },
            )
        }
    };
    // Hashed whether or not the account exists, so both answers take the same time.
    let password_hash = password::hash(signup.password).await?;
    let ip = crate::web::client_ip(&req);
    let base_url = state.settings.base_url.clone();
    crate::db::transaction(&state.pool, move |conn| {
        match users::find_by_email(conn, &signup.email)? {
            Some(existing) if existing.is_verified() || existing.password_hash.is_some() => {
                let email = messages::AccountExists {
                    first_name: existing.first_name.clone(),
                    sign_in_link: format!("{base_url}/login"),
                    reset_link: format!("{base_url}/password/forgot"),
                };
                mail::enqueue(conn, &existing.email, &email)?;
                audit::record(
                    conn,
                    &NewAuditEvent::new("sign_up_existing_account", Some(ip)).target(existing.id),
                )?;
            }
            Some(unconfirmed) => {
                // Created by an administrator, never confirmed: the person gets a fresh link
                // that lets them choose their password.
                send_verification(
                    conn,
                    &base_url,
                    unconfirmed.id,
                    &unconfirmed.first_name,
                    &unconfirmed.email,
                )?;
                audit::record(
                    conn,
                    &NewAuditEvent::new("sign_up_unconfirmed_account", Some(ip))
                        .target(unconfirmed.id),
                )?;
            }
            None => {
                let user = users::insert(
                    conn,
                    &users::NewUser {
                        id: UserId::new(),
                        email: signup.email.as_str(),
                        first_name: signup.first_name.as_str(),
                        surname: signup.surname.as_str(),
                        password_hash: Some(&password_hash),
                        email_verified_at: None,
                        medical_secretary: false,
                        imported: false,
                    },
                )?;
                send_verification(conn, &base_url, user.id, &user.first_name, &user.email)?;
                audit::record(
                    conn,
                    &NewAuditEvent::new("sign_up", Some(ip))
                        .actor(user.id)
                        .target(user.id),
                )?;
            }
        }
        Ok(())
    })
    .await?;
    Ok(crate::web::see_other("/signup/check-email"))
}

/// Issues a 24-hour verification link (the previous one stops working) and queues its email.
pub fn send_verification(
    conn: &mut diesel::PgConnection,
    base_url: &str,
    user: UserId,
    first_name: &str,
    email: &str,
) -> AppResult<()> {
    let token = Token::generate();
    tokens::issue(
        conn,
        TokenPurpose::VerifyEmail,
        Some(user),
        &token.hash(),
        chrono::Duration::hours(24),
    )?;
    let message = messages::VerifyEmail {
        first_name: first_name.to_string(),
        link: format!("{base_url}/verify/{}", token.plain()),
    };
    mail::enqueue(conn, email, &message)?;
    Ok(())
}

pub async fn check_email_page(session: TypedSession) -> AppResult<HttpResponse> {
    crate::web::render(&CheckEmailPage {
        layout: Layout::anonymous(&session)?,
        heading: "Check your email",
        explanation: "We have sent you an email. Use the link in it within 24 hours to confirm your email address and finish creating your account. If you already have an account, the email tells you how to sign in.",
    })
}
