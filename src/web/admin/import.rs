//! `GET/POST /organisations/{org_id}/admin/import`: a CSV of rostered medics (multipart field
//! `file`, header first_name,surname,email[,grade]). "Preview" (`action=preview`) shows what
//! importing would do and changes nothing; "Import" (the default) imports, keeps the row-by-row
//! report and redirects to it (`GET .../admin/import/reports/{report_id}`), so reloading the
//! report never imports again. The import itself is `services::roster`, shared with the
//! command line.

use actix_multipart::Multipart;
use actix_web::{web, HttpResponse};
use askama::Template;
use futures_util::StreamExt;

use super::AdminNav;
use crate::auth::permissions;
use crate::domain::{ImportReportId, OrganisationId};
use crate::error::AppResult;
use crate::services::roster::{self, Report, RowOutcome, Upload};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
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

/// The NHS tag colour of a row's outcome in the report.
trait Tag {
    fn tag(self) -> &'static str;
}

impl Tag for RowOutcome {
    fn tag(self) -> &'static str {
        match self {
            RowOutcome::Created => "nhsuk-tag--green",
            RowOutcome::AlreadyThere => "nhsuk-tag--grey",
            RowOutcome::Invited => "nhsuk-tag--blue",
            RowOutcome::Refused => "nhsuk-tag--red",
        }
    }
}

/// What the page shows below the form: a preview (with its file, for the "Import" button) or
/// the report of an import.
#[derive(Default)]
struct Shown {
    report: Option<Report>,
    previewed: bool,
    csv: String,
}

async fn render(
    signed: &Signed,
    org_id: OrganisationId,
    errors: FormErrors,
    shown: Shown,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let org = permissions::import_users(conn, &frame.user, org_id)?;
            AdminNav::load(conn, &org, &frame.user, "import")
        })
        .await?;
    crate::web::render_with(
        errors.status(),
        &ImportPage {
            layout: page.layout,
            nav: page.data,
            errors,
            report: shown.report,
            previewed: shown.previewed,
            csv: shown.csv,
        },
    )
}

pub async fn import_form(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let errors = FormErrors::default();
    render(&signed, org_id.into_inner(), errors, Shown::default()).await
}

/// The form's fields: the file (or the previewed text) and the button pressed.
#[derive(Default)]
struct Fields {
    csv: Option<Vec<u8>>,
    action: String,
}

async fn read_upload(mut payload: Multipart) -> Result<Fields, String> {
    let mut upload = Fields::default();
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

/// The file as text (or why it cannot be read), and which button was pressed.
fn parse(upload: Result<Fields, String>, errors: &mut FormErrors) -> Option<Upload> {
    match upload {
        Ok(Fields {
            csv: Some(bytes),
            action,
        }) => match String::from_utf8(bytes) {
            Ok(csv) => Some(Upload {
                csv,
                preview: action == "preview",
            }),
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
    }
}

pub async fn import(
    signed: Signed,
    org_id: web::Path<OrganisationId>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let org_id = org_id.into_inner();
    // Check the right before reading the upload, so strangers learn nothing.
    signed
        .read(move |conn, user| permissions::import_users(conn, user, org_id).map(drop))
        .await?;
    // The CSRF middleware has checked the upload's `csrf_token` part already.
    let mut errors = FormErrors::default();
    let Some(upload) = parse(read_upload(payload).await, &mut errors) else {
        return render(&signed, org_id, errors, Shown::default()).await;
    };
    let (preview, csv) = (upload.preview, upload.csv.clone());
    let (base_url, ip) = (signed.base_url(), signed.ip.clone());
    let decision = signed
        .decide(move |conn, user| {
            let decision =
                roster::upload(conn, &base_url, &Actor::person(user, &ip), org_id, &upload)?;
            Ok(match decision {
                Decision::Done(report) if !upload.preview => {
                    let kept = roster::keep_report(conn, user, org_id, &report)?;
                    Decision::Done((report, Some(kept)))
                }
                Decision::Done(report) => Decision::Done((report, None)),
                Decision::Refused(reason) => Decision::Refused(reason),
            })
        })
        .await?;
    let shown = match decision {
        Decision::Done((report, Some(kept))) => {
            return signed.done(
                &format!("Import finished: {}.", report.summary()),
                &format!("/organisations/{org_id}/admin/import/reports/{kept}"),
            );
        }
        Decision::Done((report, None)) => Shown {
            report: Some(report),
            previewed: preview,
            csv,
        },
        Decision::Refused(message) => {
            errors.add("file", message);
            Shown::default()
        }
    };
    render(&signed, org_id, errors, shown).await
}

/// The report of a finished import, kept for the person who ran it.
pub async fn report_page(
    signed: Signed,
    path: web::Path<(OrganisationId, ImportReportId)>,
) -> AppResult<HttpResponse> {
    let (org_id, id) = path.into_inner();
    let report = signed
        .read(move |conn, user| roster::kept_report(conn, user, org_id, id))
        .await?;
    let shown = Shown {
        report: Some(report),
        ..Shown::default()
    };
    render(&signed, org_id, FormErrors::default(), shown).await
}
