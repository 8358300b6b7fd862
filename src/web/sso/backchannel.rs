//! `POST /login/sso/{provider}/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0):
//! the provider, not a browser, posts `logout_token`; a valid one ends the matching sessions
//! at once. Exempt from the CSRF check (`auth::csrf`: no browser, no cookie); the token's signature is what
//! proves the sender. Answers 200 when done, 400 for a token that fails a check (the spec's
//! answers), never a page.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::services::sso::{self, Logout};
use crate::web::guards::Visitor;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LogoutForm {
    logout_token: String,
}

fn answer(status: actix_web::http::StatusCode, error: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    match error {
        None => response.finish(),
        Some(description) => response.content_type("application/json").body(
            serde_json::json!({"error": "invalid_request", "error_description": description})
                .to_string(),
        ),
    }
}

pub async fn log_out(
    visitor: Visitor,
    name: web::Path<String>,
    form: web::Form<LogoutForm>,
) -> AppResult<HttpResponse> {
    let provider = visitor.state.oidc.get(&name).ok_or(AppError::NotFound)?;
    let request = match provider.check_logout_token(&form.logout_token).await {
        Ok(request) => request,
        Err(error) => {
            tracing::info!(provider = %provider.settings.name, reason = %error.reason(), "logout token refused");
            let (name, reason) = (provider.settings.name.clone(), error.reason().to_string());
            visitor
                .change(move |conn, actor| {
                    Ok(crate::db::models::audit::record(
                        conn,
                        &actor
                            .event(crate::domain::AuditAction::SsoRefused)
                            .detail(format!("{name}: {reason}")),
                    )?)
                })
                .await?;
            return Ok(match error {
                crate::auth::oidc::SsoError::Unavailable(_) => answer(
                    actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                    Some("the provider's keys could not be fetched"),
                ),
                crate::auth::oidc::SsoError::NotConfirmed(_) => answer(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    Some("the logout token is not valid"),
                ),
            });
        }
    };
    let name = provider.settings.name.clone();
    let ip = visitor.ip.clone();
    let outcome = visitor
        .change(move |conn, _| sso::back_channel_logout(conn, Some(ip), &name, &request))
        .await?;
    Ok(match outcome {
        Logout::Ended(_) => answer(actix_web::http::StatusCode::OK, None),
        Logout::Replayed => answer(
            actix_web::http::StatusCode::BAD_REQUEST,
            Some("the logout token was used before"),
        ),
    })
}
