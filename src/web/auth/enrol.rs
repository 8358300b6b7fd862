//! `/account/two-factor/setup`: two-factor is required, so someone without it comes here after
//! their password. The page shows the secret as text (id `totp-secret`) and as a QR code; a first
//! good code confirms it, signs the person in, and shows ten single-use recovery codes once.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::login::after_sign_in;
use crate::auth::guards::PendingUser;
use crate::auth::{recovery, totp, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::users::User;
use crate::db::models::{recovery_codes, totp as totp_rows};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EnrolForm {
    code: String,
}

#[derive(Template)]
#[template(path = "auth/enrol.html")]
struct EnrolPage {
    layout: Layout,
    errors: FormErrors,
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "auth/recovery_codes.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
    continue_to: String,
}

/// The unconfirmed secret being enrolled, created on first visit and kept across reloads so
/// that a code from an app that already scanned it still works. `None`: already enrolled.
async fn pending_secret(state: &AppState, user: &User) -> AppResult<Option<Vec<u8>>> {
    let user_id = user.id;
    crate::db::transaction(&state.pool, move |conn| {
        match totp_rows::find(conn, user_id)? {
            Some(t) if t.confirmed_at.is_some() => Ok(None),
            Some(t) => Ok(Some(t.secret)),
            None => Ok(Some(
                totp_rows::begin_enrolment(conn, user_id, &totp::generate_secret())?.secret,
            )),
        }
    })
    .await
}

fn enrol_page(
    session: &TypedSession,
    user: &User,
    secret: &[u8],
    errors: FormErrors,
) -> AppResult<EnrolPage> {
    let url = totp::provisioning_url(secret, &user.email)?;
    Ok(EnrolPage {
        layout: Layout::anonymous(session)?,
        errors,
        secret: totp::secret_base32(secret),
        qr_svg: totp::qr_svg(&url)?,
    })
}

pub async fn enrol_form(
    session: TypedSession,
    state: web::Data<AppState>,
    pending: PendingUser,
) -> AppResult<HttpResponse> {
    let Some(secret) = pending_secret(&state, &pending.user).await? else {
        return Ok(crate::web::see_other("/login/two-factor"));
    };
    crate::web::render(&enrol_page(
        &session,
        &pending.user,
        &secret,
        FormErrors::default(),
    )?)
}

pub async fn enrol(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    pending: PendingUser,
    form: web::Form<EnrolForm>,
) -> AppResult<HttpResponse> {
    let Some(secret) = pending_secret(&state, &pending.user).await? else {
        return Ok(crate::web::see_other("/login/two-factor"));
    };
    let digits: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = totp::matching_step(&secret, &digits, totp::current_step()) else {
        let mut errors = FormErrors::default();
        errors.add(
            "code",
            if digits.is_empty() {
                "Enter the 6-digit code from your authenticator app"
            } else {
                "Enter a correct code: check your app shows Staffroom and try the newest code"
            },
        );
        return crate::web::render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &enrol_page(&session, &pending.user, &secret, errors)?,
        );
    };
    let codes = recovery::generate();
    let hashes: Vec<String> = codes.iter().map(|c| recovery::hash(c)).collect();
    let user = pending.user.id;
    let ip = crate::web::client_ip(&req);
    let confirmed = crate::db::transaction(&state.pool, move |conn| {
        if !totp_rows::accept_step(conn, user, step)? {
            return Ok(false);
        }
        totp_rows::confirm(conn, user)?;
        recovery_codes::replace(conn, user, &hashes)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::TwoFactorEnrolled, Some(ip.clone()))
                .actor(user)
                .target(user),
        )?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::SignIn, Some(ip))
                .actor(user)
                .target(user)
                .detail("authenticator enrolment"),
        )?;
        Ok(true)
    })
    .await?;
    if !confirmed {
        return Ok(crate::web::see_other("/login/two-factor"));
    }
    let next = session.complete_sign_in(user)?;
    crate::web::render(&RecoveryCodesPage {
        layout: Layout::signed_in(&session, &pending.user, &Default::default())?,
        codes,
        continue_to: after_sign_in(next),
    })
}
