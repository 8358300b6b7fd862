//! Invitations: inviting colleagues and guests into a workspace, the emailed link (accept,
//! decline, ask for a new one), invitations shown inside the app, resend and rescind, the
//! shareable workspace link, and the invitation to join an organisation sent to existing
//! accounts. The decisions are in `services::invitations` and
//! `services::join_links`.

pub mod in_app;
pub mod invite;
pub mod landing;
pub mod listing;
pub mod organisation;
pub mod share_link;

use actix_web::{web, HttpResponse};

use crate::error::AppResult;
use crate::services::Actor;
use crate::web::context::Signed;
use crate::web::layout::Layout;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/workspaces/{id}/invitations/new",
        web::get().to(invite::invite_form),
    )
    .route(
        "/workspaces/{id}/invitations",
        web::post().to(invite::invite),
    )
    .route(
        "/workspaces/{id}/invitations/{invitation_id}/resend",
        web::post().to(invite::resend),
    )
    .route(
        "/workspaces/{id}/invitations/{invitation_id}/rescind",
        web::post().to(invite::rescind),
    )
    .route("/invitations/{token}", web::get().to(landing::landing_page))
    .route(
        "/invitations/{token}/accept",
        web::post().to(landing::accept),
    )
    .route(
        "/invitations/{token}/decline",
        web::post().to(landing::decline),
    )
    .route(
        "/invitations/{token}/ask",
        web::post().to(landing::ask_again),
    )
    .route(
        "/account/invitations/{invitation_id}/accept",
        web::post().to(in_app::accept),
    )
    .route(
        "/account/invitations/{invitation_id}/decline",
        web::post().to(in_app::decline),
    )
    .route(
        "/workspaces/{id}/link/enable",
        web::post().to(share_link::enable),
    )
    .route(
        "/workspaces/{id}/link/regenerate",
        web::post().to(share_link::regenerate),
    )
    .route(
        "/workspaces/{id}/link/disable",
        web::post().to(share_link::disable),
    )
    .route(
        "/organisation-invitations/{token}",
        web::get().to(organisation::landing_page),
    )
    .route(
        "/organisation-invitations/{token}/accept",
        web::post().to(organisation::accept),
    )
    .route("/join/{token}", web::get().to(share_link::join_page))
    .route("/join/{token}", web::post().to(share_link::join));
}

/// The links never sign anyone in: sign in (or create the account) first, then come back.
/// To sign in, then back to `path` (built from encoded parts).
fn sign_in_first(path: &str) -> HttpResponse {
    crate::web::see_other(&crate::web::sign_in_then(path))
}

/// The path of a link that carries `token`, encoded as the one segment it is.
fn link_path(prefix: &str, token: &str) -> String {
    format!("{prefix}/{}", crate::web::encode_part(token))
}

/// Someone holding a link, as the audit knows them: by their address only.
fn link_holder(ip: String) -> Actor<'static> {
    Actor {
        user: None,
        ip: Some(ip),
    }
}

/// The frame for a page shown after a decision: loaded only now that a page renders.
async fn signed_layout(signed: &Signed) -> AppResult<Layout> {
    Ok(signed.page(|_, _| Ok(())).await?.layout)
}
