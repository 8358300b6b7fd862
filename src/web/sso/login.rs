//! `POST /login/sso/{provider}`: off to the provider (code flow, PKCE, state and nonce in this
//! browser's cookie). `GET /login/sso/{provider}/callback`: back with a code, checked and
//! exchanged (`auth::oidc`), then what it leads to (`services::sso::sign_in`): signed in, the
//! authenticator code next, or the password once to link. Any failure says so and signs nobody
//! in.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::flow::{self, Flow};
use crate::auth::oidc::{Provider, SsoError};
use crate::db::models::audit;
use crate::domain::{AuditAction, NextPath};
use crate::error::{AppError, AppResult};
use crate::services::sso::{self, Entry, SecondFactor};
use crate::services::{Actor, Decision};
use crate::state::AppState;
use crate::web::auth::login::after_sign_in;
use crate::web::context::Signed;
use crate::web::guards::Visitor;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StartForm {
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    code: String,
    state: String,
    error: String,
}

#[derive(Template)]
#[template(path = "auth/link_problem.html")]
struct ProblemPage {
    layout: Layout,
    heading: String,
    explanation: String,
    next_step: &'static str,
    next_href: &'static str,
}

fn provider(state: &AppState, name: &str) -> AppResult<Arc<Provider>> {
    state.oidc.get(name).ok_or(AppError::NotFound)
}

/// Where the provider sends the browser back: registered with the provider as is.
pub fn redirect_uri(state: &AppState, provider: &Provider) -> String {
    format!(
        "{}/login/sso/{}/callback",
        state.settings.base_url, provider.settings.name
    )
}

fn problem(
    visitor: &Visitor,
    status: StatusCode,
    heading: String,
    explanation: String,
) -> AppResult<HttpResponse> {
    let response = crate::web::render_with(
        status,
        &ProblemPage {
            layout: Layout::anonymous(&visitor.session)?,
            heading,
            explanation,
            next_step: "Go back to sign in",
            next_href: "/login",
        },
    )?;
    flow::with_cookie(response, &flow::removal(&visitor.state))
}

fn unavailable(
    visitor: &Visitor,
    provider: &Provider,
    error: &SsoError,
) -> AppResult<HttpResponse> {
    tracing::warn!(provider = %provider.settings.name, reason = %error.reason(), "single sign-on unavailable");
    let name = provider.display_name();
    problem(
        visitor,
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{name} cannot be reached"),
        format!("{name} did not answer Staffroom just now. Try again in a few minutes, or sign in with your email address and password."),
    )
}

pub async fn start(
    visitor: Visitor,
    name: web::Path<String>,
    form: web::Form<StartForm>,
) -> AppResult<HttpResponse> {
    let provider = provider(&visitor.state, &name)?;
    let begun = match provider
        .begin(&redirect_uri(&visitor.state, &provider))
        .await
    {
        Ok(begun) => begun,
        Err(error) => return unavailable(&visitor, &provider, &error),
    };
    let next = NextPath::parse(&form.next).map(|n| n.as_str().to_string());
    let flow = Flow {
        provider: provider.settings.name.clone(),
        secrets: begun.secrets,
        next,
        linking: visitor.session.user_id()?,
        started: chrono::Utc::now().timestamp(),
    };
    let response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, begun.url))
        .finish();
    flow::with_cookie(response, &flow::cookie(&visitor.state, &flow)?)
}

pub async fn callback(
    req: HttpRequest,
    visitor: Visitor,
    signed: Option<Signed>,
    name: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> AppResult<HttpResponse> {
    let provider = provider(&visitor.state, &name)?;
    let query = query.into_inner();
    let display = provider.display_name();
    let not_confirmed = format!("{display} did not confirm your sign-in");
    let try_again = format!("{display} did not confirm your sign-in, try again. If it happens again, sign in with your email address and password.");
    let flow = flow::read(&req, &visitor.state).filter(|f| f.provider == provider.settings.name);
    let checked: Result<Flow, String> = match flow {
        None => Err("no sign-in in flight in this browser (or it took over 10 minutes)".into()),
        Some(_) if !query.error.is_empty() => Err(format!(
            "the provider answered {}",
            query.error.chars().take(64).collect::<String>()
        )),
        Some(flow) if !bool::from(flow.secrets.state.as_bytes().ct_eq(query.state.as_bytes())) => {
            Err("the state is not this browser's".into())
        }
        Some(_) if query.code.is_empty() => Err("no code".into()),
        Some(flow) => Ok(flow),
    };
    let flow = match checked {
        Ok(flow) => flow,
        Err(reason) => {
            record_refusal(&visitor, &provider, reason).await?;
            return problem(&visitor, StatusCode::BAD_REQUEST, not_confirmed, try_again);
        }
    };
    let redirect = redirect_uri(&visitor.state, &provider);
    let verified = match provider
        .complete(&redirect, query.code, &flow.secrets)
        .await
    {
        Ok(verified) => verified,
        Err(error @ SsoError::Unavailable(_)) => {
            record_refusal(&visitor, &provider, error.reason().to_string()).await?;
            return unavailable(&visitor, &provider, &error);
        }
        Err(error) => {
            tracing::info!(provider = %provider.settings.name, reason = %error.reason(), "single sign-on refused");
            record_refusal(&visitor, &provider, error.reason().to_string()).await?;
            return problem(&visitor, StatusCode::BAD_REQUEST, not_confirmed, try_again);
        }
    };

    if let Some(linking) = flow.linking {
        return link(&visitor, signed, linking, verified, display).await;
    }
    let sid = verified.sid.clone();
    let provider_name = display.clone();
    let entry = visitor
        .change(move |conn, actor| sso::sign_in(conn, actor, &verified, &provider_name))
        .await?;
    let session = &visitor.session;
    let name = provider.settings.name.as_str();
    let response = match entry {
        Err(words) => {
            return problem(
                &visitor,
                StatusCode::FORBIDDEN,
                format!("You cannot sign in with {display} yet"),
                words,
            )
        }
        Ok(Entry::Deactivated) => {
            return problem(
                &visitor,
                StatusCode::FORBIDDEN,
                "Your account has been deactivated".into(),
                "Contact your trust administrator.".into(),
            )
        }
        Ok(Entry::LinkWithPassword(pending)) => {
            session.set_pending_link(&pending)?;
            session.set_flash(&format!(
                "Your {display} account is not linked to this Staffroom account. Sign in once with your email address, password and security code to link it."
            ))?;
            let login = match &flow.next {
                Some(next) => format!("/login?next={}", crate::web::encode_part(next)),
                None => "/login".into(),
            };
            crate::web::see_other(&login)
        }
        Ok(Entry::SignedIn {
            user,
            second_factor: SecondFactor::AtProvider,
        }) => {
            session.complete_sso_sign_in(user, name, sid.as_deref())?;
            crate::web::see_other(&after_sign_in(flow.next))
        }
        Ok(Entry::SignedIn {
            user,
            second_factor,
        }) => {
            session.begin_sso_second_factor(user, flow.next.as_deref(), name, sid.as_deref())?;
            crate::web::see_other(if second_factor == SecondFactor::Code {
                "/login/two-factor"
            } else {
                "/account/two-factor/setup"
            })
        }
    };
    flow::with_cookie(response, &flow::removal(&visitor.state))
}

/// A signed-in person came back from linking this provider on Sign-in methods; the session
/// must still be theirs.
async fn link(
    visitor: &Visitor,
    signed: Option<Signed>,
    linking: crate::domain::UserId,
    verified: crate::auth::oidc::Verified,
    display: String,
) -> AppResult<HttpResponse> {
    let Some(signed) = signed.filter(|s| s.id() == linking) else {
        let provider = provider(&visitor.state, &verified.provider)?;
        record_refusal(
            visitor,
            &provider,
            "linking: the session is not the one that started it".into(),
        )
        .await?;
        return problem(
            visitor,
            StatusCode::BAD_REQUEST,
            format!("{display} was not linked"),
            "Sign in again, then link it from Sign-in methods.".into(),
        );
    };
    let ip = signed.ip.clone();
    // Committed either way: a refusal keeps its audit event.
    let decision = signed
        .change(move |conn, user| {
            sso::link_to_signed_in(conn, &Actor::person(user, &ip), &verified, &display)
        })
        .await?;
    let message = match decision {
        Decision::Done(message) | Decision::Refused(message) => message,
    };
    let response = signed.done(&message, super::methods::PATH)?;
    flow::with_cookie(response, &flow::removal(&visitor.state))
}

/// The refusal, in the audit trail (committed whatever comes next).
async fn record_refusal(visitor: &Visitor, provider: &Provider, reason: String) -> AppResult<()> {
    let name = provider.settings.name.clone();
    visitor
        .change(move |conn, actor| {
            Ok(audit::record(
                conn,
                &actor
                    .event(AuditAction::SsoRefused)
                    .detail(format!("{name}: {reason}")),
            )?)
        })
        .await?;
    Ok(())
}

/// After a sign-in with password and code: links the identity that was waiting for it (the
/// callback found an account with its email but could not trust the provider's word for it).
pub async fn link_waiting(pending: &crate::web::guards::PendingUser) -> AppResult<()> {
    let session = &pending.visitor.session;
    let Some(link) = session.take_pending_link::<sso::PendingLink>() else {
        return Ok(());
    };
    let linked = pending
        .change(move |conn, actor| sso::link_after_password(conn, actor, &link))
        .await?;
    if let Some(message) = linked {
        session.set_flash(&message)?;
    }
    Ok(())
}
