//! `GET/POST /organisations/{org_id}/admin/import`: a CSV of rostered medics (multipart field
//! `file`, header first_name,surname,email[,grade]). "Preview" (`action=preview`) shows what
//! importing would do and changes nothing; "Import" (the default) imports and shows the
//! row-by-row report. The import itself is `roster::import`, shared with the command line.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;

use super::accounts::Actor;
use super::roster::{self, Report};
use super::AdminNav;
use crate::auth::{permissions, TypedSession};
use crate::domain::OrganisationId;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

/// A roster of 5,000 rows fits in well under this.
const MAX_UPLOAD: usize = 2 * 1024 * 1024;

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    layout: Layout,
    nav: AdminNav,
    errors: FormErrors,
    /// The preview, or the report once imported.
    report: Option<Report>,
    previewed: bool,
    /// The previewed file, carried to the "Import" button.
    csv: String,
}

pub async fn import_form(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let (user, org_id) = (current.user.clone(), org_id.into_inner());
    let nav = crate::db::run(&state.pool, move |conn| {
        let org = permissions::import_users(conn, &user, org_id)?;
        AdminNav::load(conn, &org, &user, "import")
    })
    .await?;
    crate::web::render(&ImportPage {
        layout: Layout::signed_in(&session, &current.user, &current.nav)?,
        nav,
        errors: FormErrors::default(),
        report: None,
        previewed: false,
        csv: String::new(),
    })
}

/// The form's fields: the file (or the previewed text) and the button pressed.
#[derive(Default)]
struct Upload {
    csv: Option<Vec<u8>>,
    action: String,
}

async fn read_upload(mut payload: Multipart) -> Result<Upload, String> {
    let mut upload = Upload::default();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|e| format!("The upload could not be read: {e}"))?;
        let name = field.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| format!("The upload could not be read: {e}"))?;
            if bytes.len() + chunk.len() > MAX_UPLOAD {
                return Err("The file must be smaller than 2 MB".into());
            }
            bytes.extend_from_slice(&chunk);
        }
        match name.as_str() {
            "file" | "csv" if !bytes.is_empty() => upload.csv = Some(bytes),
            "action" => upload.action = String::from_utf8_lossy(&bytes).into_owned(),
            _ => {}
        }
    }
    Ok(upload)
}

pub async fn import(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let (user, org_id) = (current.user.clone(), org_id.into_inner());
    // Check the right before reading the upload, so strangers learn nothing.
    let nav = {
        let user = user.clone();
        crate::db::run(&state.pool, move |conn| {
            let org = permissions::import_users(conn, &user, org_id)?;
            AdminNav::load(conn, &org, &user, "import")
        })
        .await?
    };
    // The CSRF middleware checked the token in the query string: it does not read uploads.
    let upload = read_upload(payload).await;
    let mut errors = FormErrors::default();
    let text = match upload {
        Ok(Upload {
            csv: Some(bytes),
            action,
            ..
        }) => match String::from_utf8(bytes) {
            Ok(text) => Some((text, action == "preview")),
            Err(_) => {
                errors.add("file", "The file must be a CSV saved as UTF-8 text");
                None
            }
        },
        Ok(_) => {
            errors.add("file", "Choose a CSV file to import");
            None
        }
        Err(message) => {
            errors.add("file", message);
            None
        }
    };
    let Some((text, preview)) = text else {
        return render(&session, &current, nav, errors, None, false, String::new());
    };
    let (ip, base_url, csv) = (
        crate::web::client_ip(&req),
        state.settings.base_url.clone(),
        text.clone(),
    );
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let org = permissions::import_users(conn, &user, org_id)?;
        let actor = Actor {
            user: Some(&user),
            ip: Some(ip),
        };
        if preview {
            roster::preview(conn, &base_url, &org, &csv, &actor)
        } else {
            roster::import(conn, &base_url, &org, &csv, &actor)
        }
    })
    .await?;
    match outcome {
        Ok(report) => {
            if !preview {
                session.set_flash(&format!("Import finished: {}.", report.summary()))?;
                // The report is shown at once: it is this response, not a page to come back to.
                let layout = Layout::signed_in(&session, &current.user, &current.nav)?;
                return crate::web::render(&ImportPage {
                    layout,
                    nav,
                    errors,
                    report: Some(report),
                    previewed: false,
                    csv: String::new(),
                });
            }
            render(&session, &current, nav, errors, Some(report), true, text)
        }
        Err(message) => {
            errors.add("file", message);
            render(&session, &current, nav, errors, None, false, String::new())
        }
    }
}

fn render(
    session: &TypedSession,
    current: &CurrentUser,
    nav: AdminNav,
    errors: FormErrors,
    report: Option<Report>,
    previewed: bool,
    csv: String,
) -> AppResult<HttpResponse> {
    let status = errors.status();
    crate::web::render_with(
        status,
        &ImportPage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            nav,
            errors,
            report,
            previewed,
            csv,
        },
    )
}
