//! `GET /account/sign-in-methods`: the person's ways in (their password, each linked provider)
//! with a button to link each other provider; `POST .../{identity_id}/unlink` removes one,
//! never the last (`services::sso::unlink`).

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::domain::IdentityId;
use crate::error::AppResult;
use crate::services::{sso, Actor, Decision};
use crate::web::context::Signed;
use crate::web::layout::Layout;

pub const PATH: &str = "/account/sign-in-methods";

struct Linked {
    id: IdentityId,
    provider: String,
    email: String,
    first: String,
    last: String,
}

#[derive(Template)]
#[template(path = "sso/methods.html")]
struct MethodsPage {
    layout: Layout,
    linked: Vec<Linked>,
    password: bool,
    /// Providers not linked yet: (name, label).
    others: Vec<(String, String)>,
    error: Option<String>,
}

async fn render(signed: &Signed, error: Option<String>) -> AppResult<HttpResponse> {
    let page = signed
        .page(|conn, frame| sso::methods(conn, &frame.user))
        .await?;
    let (identities, password) = page.data;
    let providers = &signed.state.oidc;
    let name_of = |provider: &str| {
        providers
            .get(provider)
            .map_or_else(|| provider.to_string(), |p| p.display_name())
    };
    let others = providers
        .all()
        .iter()
        .filter(|p| identities.iter().all(|i| i.provider != p.settings.name))
        .map(|p| (p.settings.name.clone(), p.settings.label.clone()))
        .collect();
    let when = |t: chrono::DateTime<chrono::Utc>| t.format("%-d %B %Y at %H:%M").to_string();
    let linked = identities
        .into_iter()
        .map(|i| Linked {
            id: i.id,
            provider: name_of(&i.provider),
            email: i.email.clone().unwrap_or_default(),
            first: when(i.first_sign_in_at),
            last: when(i.last_sign_in_at),
        })
        .collect();
    let status = if error.is_some() {
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    crate::web::render_with(
        status,
        &MethodsPage {
            layout: page.layout,
            linked,
            password,
            others,
            error,
        },
    )
}

pub async fn methods_page(signed: Signed) -> AppResult<HttpResponse> {
    render(&signed, None).await
}

pub async fn unlink(signed: Signed, identity: web::Path<IdentityId>) -> AppResult<HttpResponse> {
    let (identity, ip) = (identity.into_inner(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| sso::unlink(conn, &Actor::person(user, &ip), identity))
        .await?;
    match decision {
        Decision::Done(message) => signed.done(&message, PATH),
        Decision::Refused(reason) => render(&signed, Some(reason)).await,
    }
}
