//! `POST /logout`: ends the session in the store at once, so its cookie is worthless.

use crate::domain::AuditAction;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::TypedSession;
use crate::db::models::audit::{self, NewAuditEvent};
use crate::error::AppResult;
use crate::state::AppState;

pub async fn log_out(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    if let Some(user) = session.user_id()?.or(session.pending_user_id()?) {
        let ip = crate::web::client_ip(&req);
        crate::db::run(&state.pool, move |conn| {
            audit::record(
                conn,
                &NewAuditEvent::new(AuditAction::SignOut, Some(ip))
                    .actor(user)
                    .target(user),
            )?;
            Ok(())
        })
        .await?;
    }
    session.log_out();
    Ok(crate::web::see_other("/login"))
}
