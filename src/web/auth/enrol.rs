//! `/account/two-factor/setup`: two-factor is required, so someone without it comes here after
//! their password. The page shows the secret as text (id `totp-secret`) and as a QR code; a first
//! good code confirms it, signs the person in, and shows ten single-use recovery codes once.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::login::after_sign_in;
use crate::auth::totp;
use crate::error::AppResult;
use crate::services::sign_in::{self, Enrolment};
use crate::services::Decision;
use crate::web::forms::FormErrors;
use crate::web::guards::PendingUser;
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

/// The secret being enrolled, as text and as a QR code; the code page once already enrolled.
async fn render(pending: &PendingUser, errors: FormErrors) -> AppResult<HttpResponse> {
    let user = pending.user.id;
    let Some(secret) = pending
        .change(move |conn, _| sign_in::enrolment_secret(conn, user))
        .await?
    else {
        return Ok(crate::web::see_other("/login/two-factor"));
    };
    let url = totp::provisioning_url(&secret, &pending.user.email)?;
    crate::web::render_with(
        errors.status(),
        &EnrolPage {
            layout: Layout::anonymous(&pending.visitor.session)?,
            errors,
            secret: totp::secret_base32(&secret),
            qr_svg: totp::qr_svg(&url)?,
        },
    )
}

pub async fn enrol_form(pending: PendingUser) -> AppResult<HttpResponse> {
    render(&pending, FormErrors::default()).await
}

pub async fn enrol(pending: PendingUser, form: web::Form<EnrolForm>) -> AppResult<HttpResponse> {
    let code = form.into_inner().code;
    let decision = pending
        .decide(move |conn, actor| sign_in::enrol(conn, actor, &code))
        .await?;
    let codes = match decision {
        Decision::Done(Enrolment::Confirmed { recovery_codes }) => recovery_codes,
        Decision::Done(Enrolment::AlreadyEnrolled) => {
            return Ok(crate::web::see_other("/login/two-factor"))
        }
        Decision::Refused(reason) => {
            let mut errors = FormErrors::default();
            errors.add("code", reason);
            return render(&pending, errors).await;
        }
    };
    let session = &pending.visitor.session;
    let next = session.complete_sign_in(pending.user.id)?;
    crate::web::sso::login::link_waiting(&pending).await?;
    crate::web::render(&RecoveryCodesPage {
        // Signed in by this very response: the header names them; no switcher is loaded.
        layout: Layout::signed_in(session, &pending.user, &Default::default(), "")?,
        codes,
        continue_to: after_sign_in(next),
    })
}
