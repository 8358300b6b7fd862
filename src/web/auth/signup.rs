//! `/signup`: create an account with an email address an organisation admits. The answer is
//! the same whether or not the address already has an account; its owner gets an email instead.

use crate::domain::AuditAction;
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
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    first_name: String,
    surname: String,
    email: String,
    password: String,
    /// The token of the invitation being answered, if any.
    invitation: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupQuery {
    invitation: String,
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    layout: Layout,
    errors: FormErrors,
    first_name: String,
    surname: String,
    email: String,
    invitation: Option<InvitedSignup>,
    /// The invited address is the account's, shown but not typed.
    email_fixed: bool,
}

/// Sign-up from an invitation link.
struct InvitedSignup {
    token: String,
    workspace: String,
}

#[derive(Template)]
#[template(path = "auth/check_email.html")]
struct CheckEmailPage {
    layout: Layout,
    heading: &'static str,
    explanation: &'static str,
}

pub async fn signup_form(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    query: web::Query<SignupQuery>,
) -> AppResult<HttpResponse> {
    let mut page = SignupPage {
        layout: Layout::anonymous(&session)?,
        errors: FormErrors::default(),
        first_name: String::new(),
        surname: String::new(),
        email: String::new(),
        invitation: None,
        email_fixed: false,
    };
    if !query.invitation.is_empty() {
        let ip = crate::web::client_ip(&req);
        match invited::lookup(&state, &session, &query.invitation, &ip).await? {
            Ok((invitation, workspace)) => {
                page.email = invitation.email.clone().unwrap_or_default();
                page.email_fixed = invitation.email.is_some();
                page.invitation = Some(InvitedSignup {
                    token: query.invitation.clone(),
                    workspace,
                });
            }
            Err(dead) => return Ok(dead),
        }
    }
    crate::web::render(&page)
}

/// A sign-up that passed every rule.
struct ValidSignup {
    first_name: PersonName,
    surname: PersonName,
    email: EmailAddress,
    password: Password,
}

/// `admitted_only`: the address must be one an organisation admits (not for invited guests).
async fn parse(
    state: &AppState,
    form: &SignupForm,
    admitted_only: bool,
) -> AppResult<Result<ValidSignup, FormErrors>> {
    let mut errors = FormErrors::default();
    let first_name = errors.check(
        "first_name",
        PersonName::parse(&form.first_name, "first name"),
    );
    let surname = errors.check("surname", PersonName::parse(&form.surname, "surname"));
    let email = errors.check("email", EmailAddress::parse(&form.email));
    if let Some(email) = email.clone().filter(|_| admitted_only) {
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
    if !form.invitation.is_empty() {
        return invited::sign_up(req, session, state, form).await;
    }
    let signup = match parse(&state, &form, true).await? {
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
                    invitation: None,
                    email_fixed: false,
                },
            )
        }
    };
    create_or_tell_owner(&req, &state, signup).await?;
    Ok(crate::web::see_other("/signup/check-email"))
}

/// Creates the account and sends the verification link, or (without saying so on the page)
/// emails the owner of an existing account.
async fn create_or_tell_owner(
    req: &HttpRequest,
    state: &AppState,
    signup: ValidSignup,
) -> AppResult<()> {
    // Hashed whether or not the account exists, so both answers take the same time.
    let password_hash = password::hash(signup.password).await?;
    let ip = crate::web::client_ip(req);
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
                    &NewAuditEvent::new(AuditAction::SignUpExistingAccount, Some(ip))
                        .target(existing.id),
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
                    &NewAuditEvent::new(AuditAction::SignUpUnconfirmedAccount, Some(ip))
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
                    &NewAuditEvent::new(AuditAction::SignUp, Some(ip))
                        .actor(user.id)
                        .target(user.id),
                )?;
            }
        }
        Ok(())
    })
    .await
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

/// Sign-up from an invitation link (`/signup?invitation={token}`). For an emailed invitation the
/// address is the invited one, confirmed by the link itself: the account is created verified and
/// the person goes straight on to enrol their authenticator, then back to the invitation to
/// press Join. For a text-message invitation the person types their own address, which is
/// confirmed by email as usual (any address: guests need not be in an organisation).
mod invited {
    use super::*;
    use crate::db::models::invitations::Invitation;
    use crate::web::invitations::landing::{dead_link, link_state, LinkState};

    /// The live invitation and its workspace's name, or the page saying why the link is dead.
    pub async fn lookup(
        state: &AppState,
        session: &TypedSession,
        token: &str,
        ip: &str,
    ) -> AppResult<Result<(Invitation, String), HttpResponse>> {
        let link = link_state(state, token, ip).await?;
        let LinkState::Live(invitation) = link else {
            return Ok(Err(dead_link(session, state, None, token, &link).await?));
        };
        let id = invitation.workspace_id;
        let workspace = crate::db::run(&state.pool, move |conn| {
            Ok(crate::db::models::workspaces::find(conn, id)?.name)
        })
        .await?;
        Ok(Ok((invitation, workspace)))
    }

    pub async fn sign_up(
        req: HttpRequest,
        session: TypedSession,
        state: web::Data<AppState>,
        mut form: SignupForm,
    ) -> AppResult<HttpResponse> {
        let ip = crate::web::client_ip(&req);
        let (invitation, workspace) = match lookup(&state, &session, &form.invitation, &ip).await? {
            Ok(found) => found,
            Err(dead) => return Ok(dead),
        };
        let email_fixed = invitation.email.is_some();
        if let Some(invited) = &invitation.email {
            form.email = invited.clone();
        }
        let mut signup = parse(&state, &form, false).await?;
        if let (Ok(valid), true) = (&signup, email_fixed) {
            let email = valid.email.clone();
            let exists = crate::db::run(&state.pool, move |conn| {
                // An account an administrator made (no password, never confirmed) is
                // completed here: the invitation link confirms its address too. Not one that
                // holds a role: a forwarded invitation must not claim a prepared administrator;
                // that person uses their own confirmation email.
                Ok(match users::find_by_email(conn, &email)? {
                    None => false,
                    Some(u) => {
                        u.password_hash.is_some()
                            || u.is_verified()
                            || crate::db::models::roles::holds_any(conn, u.id)?
                    }
                })
            })
            .await?;
            if exists {
                let mut errors = FormErrors::default();
                errors.add(
                    "email",
                    "There is already a Staffroom account for this address. Sign in to join (if it was made for you by an administrator, first choose its password from the confirmation email).",
                );
                signup = Err(errors);
            }
        }
        let signup = match signup {
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
                        invitation: Some(InvitedSignup {
                            token: form.invitation,
                            workspace,
                        }),
                        email_fixed,
                    },
                )
            }
        };
        if !email_fixed {
            create_or_tell_owner(&req, &state, signup).await?;
            return Ok(crate::web::see_other("/signup/check-email"));
        }
        let password_hash = password::hash(signup.password).await?;
        let created = crate::db::transaction(&state.pool, move |conn| {
            if let Some(existing) = users::find_by_email(conn, &signup.email)? {
                if existing.password_hash.is_some()
                    || existing.is_verified()
                    || crate::db::models::roles::holds_any(conn, existing.id)?
                {
                    return Ok(None);
                }
                users::set_password_hash(conn, existing.id, &password_hash)?;
                users::mark_verified(conn, existing.id)?;
                audit::record(
                    conn,
                    &NewAuditEvent::new(AuditAction::PasswordSet, Some(ip))
                        .actor(existing.id)
                        .target(existing.id)
                        .workspace(invitation.workspace_id)
                        .detail(format!(
                            "{} chose a password from an invitation (address confirmed by the invitation link)",
                            existing.full_name()
                        )),
                )?;
                return Ok(Some(existing.id));
            }
            let user = users::insert(
                conn,
                &users::NewUser {
                    id: UserId::new(),
                    email: signup.email.as_str(),
                    first_name: signup.first_name.as_str(),
                    surname: signup.surname.as_str(),
                    password_hash: Some(&password_hash),
                    email_verified_at: Some(chrono::Utc::now()),
                    medical_secretary: false,
                    imported: false,
                },
            )?;
            audit::record(
                conn,
                &NewAuditEvent::new(AuditAction::SignUp, Some(ip))
                    .actor(user.id)
                    .target(user.id)
                    .workspace(invitation.workspace_id)
                    .detail(format!(
                        "{} created an account from an invitation (address confirmed by the invitation link)",
                        user.full_name()
                    )),
            )?;
            Ok(Some(user.id))
        })
        .await?;
        let Some(user) = created else {
            // Created by a parallel request a moment ago: signing in is the way on.
            return Ok(crate::web::see_other(&format!(
                "/login?next=/invitations/{}",
                form.invitation
            )));
        };
        // The password was just chosen: the second factor (its enrolment) is what remains.
        let next = format!("/invitations/{}", form.invitation);
        session.begin_second_factor(user, Some(&next))?;
        Ok(crate::web::see_other("/account/two-factor/setup"))
    }
}
