//! The patient lists (the workspace's, and each member's personal one): adding a patient and
//! correcting a record, each audited with who did it.

use chrono::NaiveDate;
use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions::{self, ConversationAccess};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::patients::{self, List, NewPatient, Patient, PatientChanges};
use crate::domain::{
    AuditAction, EmailAddress, MobileNumber, NhsNumber, PatientId, PersonName, UserId, WorkspaceId,
};
use crate::error::{AppError, AppResult};

/// A patient record that passed the form's rules.
pub struct Record {
    pub nhs_number: NhsNumber,
    pub first_name: PersonName,
    pub surname: PersonName,
    pub date_of_birth: NaiveDate,
    pub mobile: Option<MobileNumber>,
    pub email: Option<EmailAddress>,
}

impl Record {
    /// The columns the record fills, last written by `by`.
    fn written_by(&self, by: UserId) -> PatientChanges<'_> {
        PatientChanges {
            nhs_number: self.nhs_number.as_str(),
            first_name: self.first_name.as_str(),
            surname: self.surname.as_str(),
            date_of_birth: self.date_of_birth,
            mobile: self.mobile.as_ref().map(|m| m.as_str()),
            email: self.email.as_ref().map(|e| e.as_str()),
            updated_by: Some(by),
        }
    }
}

/// The refusal that concerns the NHS number (adding's other one concerns the list chosen).
pub const NHS_NUMBER_IN_LIST: &str = "A patient with this NHS number is already in this list";

/// Adds a patient to the actor's personal list, or (`personal` false) to the workspace's,
/// which is for approved colleagues. Done says what to show.
pub fn add(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    record: &Record,
    personal: bool,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let access = permissions::use_conversations(conn, user, id)?;
    if !personal && !access.shares() {
        return Ok(Decision::refused(if access.access.is_pending() {
            "Until your membership is approved, you can add patients to your personal list only"
        } else {
            "Guests can add patients to their personal list only"
        }));
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
            created_by: Some(user.id),
            record: record.written_by(user.id),
        },
    )?
    else {
        return Ok(Decision::refused(NHS_NUMBER_IN_LIST));
    };
    let detail = format!(
        "{} added {} to {}",
        user.full_name(),
        audit_name(&patient),
        audit_list(list)
    );
    audit::record(
        conn,
        &event(actor, &access, list, AuditAction::PatientAdded).detail(detail),
    )?;
    Ok(Decision::Done(format!(
        "{} added to {list_name}.",
        patient.full_name()
    )))
}

/// Corrects a record the actor may change; refused when the NHS number is another's in the
/// same list. Done says what to show.
pub fn change(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    patient: PatientId,
    record: &Record,
) -> AppResult<Decision> {
    let user = actor.user()?;
    let access = permissions::use_conversations(conn, user, id)?;
    let (before, list) = to_change(conn, &access, patient)?;
    let before = patients::lock(conn, before.id)?;
    if patients::nhs_number_taken(conn, list, record.nhs_number.as_str(), Some(patient))? {
        return Ok(Decision::refused(
            "Another patient in this list already has this NHS number",
        ));
    }
    let changed = changed_fields(&before, record);
    let after = patients::update(conn, patient, &record.written_by(user.id))?;
    if !changed.is_empty() {
        let detail = format!(
            "{} changed the {} of {} in {}",
            user.full_name(),
            changed.join(", "),
            audit_name(&before),
            audit_list(list)
        );
        audit::record(
            conn,
            &event(actor, &access, list, AuditAction::PatientChanged).detail(detail),
        )?;
    }
    Ok(Decision::Done(format!(
        "{}'s record saved.",
        after.full_name()
    )))
}

/// A patient whose record this member may correct, and its list: one in their personal list,
/// or (for an approved colleague) one in the workspace's list. Anything else is 404.
pub fn to_change(
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

/// Which list, and the words the audit and the flash use for it.
/// How the audit names a patient: in words a person can follow ("a patient (A P, born 1984)"),
/// never their NHS number nor their full name (the organisation's audit is read by people
/// outside the workspace), nor an id nobody can read.
fn audit_name(patient: &Patient) -> String {
    let initial = |name: &str| name.chars().next().map(|c| c.to_uppercase().to_string());
    format!(
        "a patient ({} {}, born {})",
        initial(&patient.first_name).unwrap_or_default(),
        initial(&patient.surname).unwrap_or_default(),
        patient.date_of_birth.format("%Y")
    )
}

fn audit_list(list: List) -> &'static str {
    match list {
        List::Personal(_) => "their personal list",
        List::Workspace(_) => "the workspace's list",
    }
}

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
    actor: &Actor,
    access: &ConversationAccess,
    list: List,
    action: AuditAction,
) -> NewAuditEvent {
    let event = actor
        .event(action)
        .organisation(access.access.workspace.organisation_id);
    // A personal list's changes stay out of the workspace's history.
    match list {
        List::Workspace(ws) => event.workspace(ws),
        List::Personal(_) => event,
    }
}

/// The fields a change touched, as the audit says them ("mobile number, email address").
fn changed_fields(before: &Patient, after: &Record) -> Vec<&'static str> {
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
