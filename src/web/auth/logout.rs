//! `POST /logout`: ends the session in the store at once, so its cookie is worthless.

use actix_web::HttpResponse;

use crate::error::AppResult;
use crate::services::sign_in;
use crate::web::guards::Visitor;

pub async fn log_out(visitor: Visitor) -> AppResult<HttpResponse> {
    let session = &visitor.session;
    if let Some(user) = session.user_id()?.or(session.pending_user_id()?) {
        visitor
            .change(move |conn, actor| sign_in::sign_out(conn, actor, user))
            .await?;
    }
    visitor.session.log_out();
    Ok(crate::web::see_other("/login"))
}
