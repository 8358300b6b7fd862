//! The patient lists: `GET /workspaces/{id}/patients` (the workspace's list for approved
//! colleagues, your personal list for every member, and the form to add one),
//! `POST /workspaces/{id}/patients` (`personal=on` for your personal list), and
//! `GET/POST /workspaces/{id}/patients/{patient_id}` to correct a record. The decisions (and
//! their audit) are in `services::patients`.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::patients::{self, List, Patient};
use crate::db::models::workspaces::Workspace;
use crate::domain::{
    DomainError, EmailAddress, MobileNumber, NhsNumber, PatientId, PersonName, WorkspaceId,
};
use crate::error::AppResult;
use crate::services::patients::Record;
use crate::services::{self, Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

/// Each list shows at most this many patients.
const SHOWN: i64 = 1000;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct PatientForm {
    pub nhs_number: String,
    pub first_name: String,
    pub surname: String,
    /// YYYY-MM-DD (the contract's field), or the date input's three boxes below.
    pub date_of_birth: String,
    #[serde(rename = "date_of_birth-day")]
    pub date_of_birth_day: String,
    #[serde(rename = "date_of_birth-month")]
    pub date_of_birth_month: String,
    #[serde(rename = "date_of_birth-year")]
    pub date_of_birth_year: String,
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
            date_of_birth_day: String::new(),
            date_of_birth_month: String::new(),
            date_of_birth_year: String::new(),
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

    /// The date input's boxes as typed, or the date split up.
    pub fn date_of_birth_parts(&self) -> (String, String, String) {
        crate::web::forms::date_parts(
            &self.date_of_birth,
            &self.date_of_birth_day,
            &self.date_of_birth_month,
            &self.date_of_birth_year,
        )
    }
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
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| DomainError::new("Enter a real date of birth, like 31 3 1984"))?;
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

impl PatientForm {
    /// The form's own rules; whether the NHS number is free is the service's.
    fn parse(&self, errors: &mut FormErrors) -> Option<Record> {
        let form = self;
        let nhs_number = errors.check("nhs_number", NhsNumber::parse(&form.nhs_number));
        let first_name = errors.check("first_name", patient_name(&form.first_name, "first name"));
        let surname = errors.check("surname", patient_name(&form.surname, "surname"));
        let typed = crate::web::forms::date_field(
            &form.date_of_birth,
            &form.date_of_birth_day,
            &form.date_of_birth_month,
            &form.date_of_birth_year,
        );
        let date_of_birth = errors.check("date_of_birth", date_of_birth(&typed));
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
        Some(Record {
            nhs_number: nhs_number?,
            first_name: first_name?,
            surname: surname?,
            date_of_birth: date_of_birth?,
            mobile: mobile?,
            email: email?,
        })
        .filter(|_| errors.is_empty())
    }
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
    shares: bool,
    shared: Vec<PatientRow>,
    personal: Vec<PatientRow>,
    form: PatientForm,
}

async fn render_page(
    signed: &Signed,
    id: WorkspaceId,
    errors: FormErrors,
    form: PatientForm,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let access = permissions::use_conversations(conn, &frame.user, id)?;
            let shared = if access.shares() {
                patients::in_list(conn, List::Workspace(id), SHOWN)?
            } else {
                Vec::new()
            };
            let personal = patients::in_list(conn, List::Personal(frame.user.id), SHOWN)?;
            Ok((access, shared, personal))
        })
        .await?;
    let (access, shared, personal) = page.data;
    crate::web::render_with(
        errors.status(),
        &PatientsPage {
            layout: page.layout,
            errors,
            shares: access.shares(),
            workspace: access.access.workspace,
            shared: shared.iter().map(PatientRow::from).collect(),
            personal: personal.iter().map(PatientRow::from).collect(),
            form,
        },
    )
}

pub async fn patients_page(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    render_page(
        &signed,
        id.into_inner(),
        FormErrors::default(),
        PatientForm::default(),
    )
    .await
}

pub async fn add_patient(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    form: web::Form<PatientForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(record) = form.parse(&mut errors) {
        let (ip, personal) = (signed.ip.clone(), form.is_personal());
        let decision = signed
            .decide(move |conn, user| {
                services::patients::add(conn, &Actor::person(user, &ip), id, &record, personal)
            })
            .await?;
        match decision {
            Decision::Done(message) => {
                return signed.done(&message, &format!("/workspaces/{id}/patients"))
            }
            Decision::Refused(reason) => {
                let field = if reason == services::patients::NHS_NUMBER_IN_LIST {
                    "nhs_number"
                } else {
                    "personal"
                };
                errors.add(field, reason);
            }
        }
    }
    render_page(&signed, id, errors, form).await
}

#[derive(Template)]
#[template(path = "conversations/patient.html")]
struct PatientFormPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    patient_id: String,
    personal: bool,
    form: PatientForm,
}

async fn render_patient_form(
    signed: &Signed,
    (id, patient): (WorkspaceId, PatientId),
    errors: FormErrors,
    form: Option<PatientForm>,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let access = permissions::use_conversations(conn, &frame.user, id)?;
            let (record, list) = services::patients::to_change(conn, &access, patient)?;
            Ok((access, record, list))
        })
        .await?;
    let (access, record, list) = page.data;
    crate::web::render_with(
        errors.status(),
        &PatientFormPage {
            layout: page.layout,
            errors,
            workspace: access.access.workspace,
            patient_id: patient.to_string(),
            personal: matches!(list, List::Personal(_)),
            form: form.unwrap_or_else(|| PatientForm::from_patient(&record)),
        },
    )
}

pub async fn patient_form(
    signed: Signed,
    path: web::Path<(WorkspaceId, PatientId)>,
) -> AppResult<HttpResponse> {
    render_patient_form(&signed, path.into_inner(), FormErrors::default(), None).await
}

pub async fn change_patient(
    signed: Signed,
    path: web::Path<(WorkspaceId, PatientId)>,
    form: web::Form<PatientForm>,
) -> AppResult<HttpResponse> {
    let ((id, patient), form) = (path.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(record) = form.parse(&mut errors) {
        let ip = signed.ip.clone();
        let decision = signed
            .decide(move |conn, user| {
                services::patients::change(conn, &Actor::person(user, &ip), id, patient, &record)
            })
            .await?;
        match decision {
            Decision::Done(message) => {
                return signed.done(&message, &format!("/workspaces/{id}/patients"))
            }
            // The only refusal: the NHS number is another patient's.
            Decision::Refused(reason) => errors.add("nhs_number", reason),
        }
    }
    render_patient_form(&signed, (id, patient), errors, Some(form)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_with_neither_mobile_nor_email_is_refused_beside_the_mobile() {
        let form = PatientForm {
            nhs_number: "943 476 5919".into(),
            first_name: "Pat".into(),
            surname: "Patient".into(),
            date_of_birth: "1984-03-31".into(),
            ..PatientForm::default()
        };
        let mut errors = FormErrors::default();
        assert!(form.parse(&mut errors).is_none());
        assert_eq!(errors.iter().count(), 1);
        assert!(errors
            .get("mobile")
            .is_some_and(|m| m.starts_with("Enter a mobile number or an email address")));
    }
}
