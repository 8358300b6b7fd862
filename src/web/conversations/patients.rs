//! The patient lists: `GET /workspaces/{id}/patients` (the workspace's list for approved
//! colleagues, your personal list for every member, and the form to add one),
//! `POST /workspaces/{id}/patients` (`personal=on` for your personal list), and
//! `GET/POST /workspaces/{id}/patients/{patient_id}` to correct a record. Each addition and
//! change is audited with who made it.

use crate::domain::AuditAction;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, Utc};
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::permissions::{self, ConversationAccess};
use crate::auth::TypedSession;
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::patients::{self, List, NewPatient, Patient, PatientChanges};
use crate::db::models::users::User;
use crate::db::models::workspaces::Workspace;
use crate::domain::{
    DomainError, EmailAddress, MobileNumber, NhsNumber, PatientId, PersonName, WorkspaceId,
};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

/// Each list shows at most this many patients.
const SHOWN: i64 = 1000;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct PatientForm {
    pub nhs_number: String,
    pub first_name: String,
    pub surname: String,
    /// YYYY-MM-DD.
    pub date_of_birth: String,
    pub mobile: String,
    pub email: String,
    /// "on" for the user's personal list.
    pub personal: String,
}

impl PatientForm {
    fn from_patient(p: &Patient) -> Self {
        Self {
            nhs_number: p.nhs_number_spaced(),
            first_name: p.first_name.clone(),
            surname: p.surname.clone(),
            date_of_birth: p.date_of_birth.format("%Y-%m-%d").to_string(),
            mobile: p.mobile_national().unwrap_or_default(),
            email: p.email.clone().unwrap_or_default(),
            personal: if p.is_personal() {
                "on".into()
            } else {
                "".into()
            },
        }
    }

    pub fn is_personal(&self) -> bool {
        self.personal == "on"
    }
}

/// A patient record that passed the rules.
struct Parsed {
    nhs_number: NhsNumber,
    first_name: PersonName,
    surname: PersonName,
    date_of_birth: NaiveDate,
    mobile: Option<MobileNumber>,
    email: Option<EmailAddress>,
}

fn patient_name(raw: &str, what: &str) -> Result<PersonName, DomainError> {
    if raw.trim().is_empty() {
        return Err(DomainError::new(format!("Enter the patient's {what}")));
    }
    PersonName::parse(raw, what).map_err(|e| DomainError::new(e.0.replace("Your ", "The ")))
}

fn date_of_birth(raw: &str) -> Result<NaiveDate, DomainError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(DomainError::new("Enter the patient's date of birth"));
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
        DomainError::new("Enter the date of birth as year-month-day, like 1984-03-31")
    })?;
    if day > Utc::now().date_naive() {
        return Err(DomainError::new(
            "The date of birth must be today or in the past",
        ));
    }
    if day < NaiveDate::from_ymd_opt(1890, 1, 1).unwrap_or(day) {
        return Err(DomainError::new("Enter a date of birth after 1890"));
    }
    Ok(day)
}

fn parse(form: &PatientForm, errors: &mut FormErrors) -> Option<Parsed> {
    let nhs_number = errors.check("nhs_number", NhsNumber::parse(&form.nhs_number));
    let first_name = errors.check("first_name", patient_name(&form.first_name, "first name"));
    let surname = errors.check("surname", patient_name(&form.surname, "surname"));
    let date_of_birth = errors.check("date_of_birth", date_of_birth(&form.date_of_birth));
    let mobile = if form.mobile.trim().is_empty() {
        Some(None)
    } else {
        errors
            .check("mobile", MobileNumber::parse(&form.mobile))
            .map(Some)
    };
    let email = if form.email.trim().is_empty() {
        Some(None)
    } else {
        errors
            .check(
                "email",
                EmailAddress::parse(&form.email).map_err(|_| {
                    DomainError::new(
                        "Enter an email address in the correct format, like name@example.com",
                    )
                }),
            )
            .map(Some)
    };
    if matches!((&mobile, &email), (Some(None), Some(None))) {
        errors.add(
            "mobile",
            "Enter a mobile number or an email address (or both), so that messages can reach the patient",
        );
    }
    Some(Parsed {
        nhs_number: nhs_number?,
        first_name: first_name?,
        surname: surname?,
        date_of_birth: date_of_birth?,
        mobile: mobile?,
        email: email?,
    })
}

/// A line of a list, ready to show.
pub struct PatientRow {
    pub id: String,
    pub name: String,
    pub nhs_number: String,
    pub date_of_birth: String,
    pub mobile: String,
    pub email: String,
}

impl From<&Patient> for PatientRow {
    fn from(p: &Patient) -> Self {
        Self {
            id: p.id.to_string(),
            name: format!("{}, {}", p.surname.to_uppercase(), p.first_name),
            nhs_number: p.nhs_number_spaced(),
            date_of_birth: p.date_of_birth.format("%-d %b %Y").to_string(),
            mobile: p.mobile_national().unwrap_or_default(),
            email: p.email.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "conversations/patients.html")]
struct PatientsPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    tab: &'static str,
    shares: bool,
    shared: Vec<PatientRow>,
    personal: Vec<PatientRow>,
    form: PatientForm,
}

async fn render_page(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
    errors: FormErrors,
    form: PatientForm,
) -> AppResult<HttpResponse> {
    let user = current.user.clone();
    let (access, shared, personal) = crate::db::run(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        let shared = if access.shares() {
            patients::in_list(conn, List::Workspace(id), SHOWN)?
        } else {
            Vec::new()
        };
        let personal = patients::in_list(conn, List::Personal(user.id), SHOWN)?;
        Ok((access, shared, personal))
    })
    .await?;
    let status = errors.status();
    crate::web::render_with(
        status,
        &PatientsPage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            errors,
            shares: access.shares(),
            workspace: access.access.workspace,
            tab: "patients",
            shared: shared.iter().map(PatientRow::from).collect(),
            personal: personal.iter().map(PatientRow::from).collect(),
            form,
        },
    )
}

pub async fn patients_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    render_page(
        &session,
        &state,
        &current,
        id.into_inner(),
        FormErrors::default(),
        PatientForm::default(),
    )
    .await
}

/// Which list, and the words the audit and the flash use for it.
fn list_for(access: &ConversationAccess, personal: bool) -> (List, &'static str) {
    if personal {
        (List::Personal(access.user), "your personal list")
    } else {
        (
            List::Workspace(access.access.workspace.id),
            "the workspace's list",
        )
    }
}

fn event(
    action: AuditAction,
    ip: &str,
    user: &User,
    access: &ConversationAccess,
    list: List,
    detail: String,
) -> NewAuditEvent {
    let event = NewAuditEvent::new(action, Some(ip.to_string()))
        .actor(user.id)
        .organisation(access.access.workspace.organisation_id)
        .detail(detail);
    // A personal list's changes stay out of the workspace's history.
    match list {
        List::Workspace(ws) => event.workspace(ws),
        List::Personal(_) => event,
    }
}

pub async fn add_patient(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
    form: web::Form<PatientForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    let Some(parsed) = parse(&form, &mut errors) else {
        return render_page(&session, &state, &current, id, errors, form).await;
    };
    let (user, ip, personal) = (
        current.user.clone(),
        crate::web::client_ip(&req),
        form.is_personal(),
    );
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        if !personal && !access.shares() {
            return Ok(Err((
                "personal",
                if access.access.is_pending() {
                    "Until your membership is approved, you can add patients to your personal list only"
                } else {
                    "Guests can add patients to their personal list only"
                },
            )));
        }
        let (list, list_name) = list_for(&access, personal);
        let (workspace_id, owner_id) = match list {
            List::Workspace(ws) => (Some(ws), None),
            List::Personal(owner) => (None, Some(owner)),
        };
        let Some(patient) = patients::insert(
            conn,
            &NewPatient {
                id: PatientId::new(),
                workspace_id,
                owner_id,
                nhs_number: parsed.nhs_number.as_str(),
                first_name: parsed.first_name.as_str(),
                surname: parsed.surname.as_str(),
                date_of_birth: parsed.date_of_birth,
                mobile: parsed.mobile.as_ref().map(|m| m.as_str()),
                email: parsed.email.as_ref().map(|e| e.as_str()),
                created_by: Some(user.id),
                updated_by: Some(user.id),
            },
        )?
        else {
            return Ok(Err((
                "nhs_number",
                "A patient with this NHS number is already in this list",
            )));
        };
        audit::record(
            conn,
            &event(
                AuditAction::PatientAdded,
                &ip,
                &user,
                &access,
                list,
                // The patient's id, not their NHS number: the organisation's audit is read
                // by people outside the workspace.
                format!(
                    "{} added patient {} to {list_name}",
                    user.full_name(),
                    patient.id
                ),
            ),
        )?;
        Ok(Ok(format!(
            "{} added to {list_name}.",
            patient.full_name()
        )))
    })
    .await?;
    match outcome {
        Ok(message) => {
            session.set_flash(&message)?;
            Ok(crate::web::see_other(&format!("/workspaces/{id}/patients")))
        }
        Err((field, message)) => {
            errors.add(field, message);
            render_page(&session, &state, &current, id, errors, form).await
        }
    }
}

/// A patient whose record this member may correct: one in their personal list, or (for an
/// approved colleague) one in the workspace's list. Anything else is 404.
fn patient_to_change(
    conn: &mut PgConnection,
    access: &ConversationAccess,
    patient: PatientId,
) -> AppResult<(Patient, List)> {
    use diesel::OptionalExtension;
    let personal = List::Personal(access.user);
    if let Some(p) = patients::find_in(conn, personal, patient).optional()? {
        return Ok((p, personal));
    }
    let shared = List::Workspace(access.access.workspace.id);
    if access.shares() {
        return Ok((patients::find_in(conn, shared, patient)?, shared));
    }
    Err(AppError::NotFound)
}

#[derive(Template)]
#[template(path = "conversations/patient.html")]
struct PatientFormPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    tab: &'static str,
    patient_id: String,
    personal: bool,
    form: PatientForm,
}

async fn render_patient_form(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    (id, patient): (WorkspaceId, PatientId),
    errors: FormErrors,
    form: Option<PatientForm>,
) -> AppResult<HttpResponse> {
    let user = current.user.clone();
    let (access, record, list) = crate::db::run(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        let (record, list) = patient_to_change(conn, &access, patient)?;
        Ok((access, record, list))
    })
    .await?;
    let status = errors.status();
    crate::web::render_with(
        status,
        &PatientFormPage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            errors,
            workspace: access.access.workspace,
            tab: "patients",
            patient_id: patient.to_string(),
            personal: matches!(list, List::Personal(_)),
            form: form.unwrap_or_else(|| PatientForm::from_patient(&record)),
        },
    )
}

pub async fn patient_form(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, PatientId)>,
) -> AppResult<HttpResponse> {
    render_patient_form(
        &session,
        &state,
        &current,
        path.into_inner(),
        FormErrors::default(),
        None,
    )
    .await
}

/// The fields a change touched, as the audit says them ("mobile number, email address").
fn changed_fields(before: &Patient, after: &Parsed) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if before.nhs_number != after.nhs_number.as_str() {
        changed.push("NHS number");
    }
    if before.first_name != after.first_name.as_str() || before.surname != after.surname.as_str() {
        changed.push("name");
    }
    if before.date_of_birth != after.date_of_birth {
        changed.push("date of birth");
    }
    if before.mobile.as_deref() != after.mobile.as_ref().map(|m| m.as_str()) {
        changed.push("mobile number");
    }
    if before.email.as_deref() != after.email.as_ref().map(|e| e.as_str()) {
        changed.push("email address");
    }
    changed
}

pub async fn change_patient(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, PatientId)>,
    form: web::Form<PatientForm>,
) -> AppResult<HttpResponse> {
    let ((id, patient), form) = (path.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    let Some(parsed) = parse(&form, &mut errors) else {
        return render_patient_form(
            &session,
            &state,
            &current,
            (id, patient),
            errors,
            Some(form),
        )
        .await;
    };
    let (user, ip) = (current.user.clone(), crate::web::client_ip(&req));
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        let (before, list) = patient_to_change(conn, &access, patient)?;
        let before = patients::lock(conn, before.id)?;
        if patients::nhs_number_taken(conn, list, parsed.nhs_number.as_str(), Some(patient))? {
            return Ok(Err(
                "Another patient in this list already has this NHS number",
            ));
        }
        let changed = changed_fields(&before, &parsed);
        let after = patients::update(
            conn,
            patient,
            &PatientChanges {
                nhs_number: parsed.nhs_number.as_str(),
                first_name: parsed.first_name.as_str(),
                surname: parsed.surname.as_str(),
                date_of_birth: parsed.date_of_birth,
                mobile: parsed.mobile.as_ref().map(|m| m.as_str()),
                email: parsed.email.as_ref().map(|e| e.as_str()),
                updated_by: Some(user.id),
            },
        )?;
        if !changed.is_empty() {
            audit::record(
                conn,
                &event(
                    AuditAction::PatientChanged,
                    &ip,
                    &user,
                    &access,
                    list,
                    format!(
                        "{} changed the {} of patient {}",
                        user.full_name(),
                        changed.join(", "),
                        before.id,
                    ),
                ),
            )?;
        }
        Ok(Ok(format!("{}'s record saved.", after.full_name())))
    })
    .await?;
    match outcome {
        Ok(message) => {
            session.set_flash(&message)?;
            Ok(crate::web::see_other(&format!("/workspaces/{id}/patients")))
        }
        Err(message) => {
            errors.add("nhs_number", message);
            render_patient_form(
                &session,
                &state,
                &current,
                (id, patient),
                errors,
                Some(form),
            )
            .await
        }
    }
}
