//! Rostered medics: the import shared by the Import page and `staffroom import-users` (a CSV
//! with the header `first_name,surname,email[,grade]`, one person a row), and giving an
//! email-less profile its address to invite it. An address of someone in the organisation
//! refers to them (so importing a file twice creates nobody twice); an address with an account
//! outside it is invited to join (the account is never pulled in, nor named); a row without an
//! email address makes a profile that cannot sign in yet; a bad row is refused with its reason
//! and the others still go in. The whole file is one transaction with its audit and its mail.

use diesel::connection::{Connection, TransactionManager};
use diesel::PgConnection;

use super::accounts::{self, Added, Newcomer};
use super::organisation_invitations::{self, Carried};
use super::{invitations, Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit;
use crate::db::models::import_reports;
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::roster_profiles::{self, RosterProfile};
use crate::db::models::users::{self, User};
use crate::db::models::workspaces::{self, Workspace};
use crate::domain::{
    AuditAction, EmailAddress, ImportReportId, Invitee, OrganisationId, PersonName, Text,
    TextRules, UserId, WorkspaceId, WorkspaceRole,
};
use crate::error::{AppError, AppResult};

/// A roster larger than this is split by the trust before import.
pub const MAX_ROWS: usize = 5000;
/// What a row's grade may be.
const GRADE: TextRules = TextRules::line("The grade", 100);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RowOutcome {
    Created,
    AlreadyThere,
    /// The address has an account outside the organisation: invited to join it.
    Invited,
    Refused,
}

impl RowOutcome {
    pub fn label(self) -> &'static str {
        match self {
            RowOutcome::Created => "Created",
            RowOutcome::AlreadyThere => "Already there",
            RowOutcome::Invited => "Invited",
            RowOutcome::Refused => "Refused",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RowReport {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub name: String,
    pub email: String,
    pub outcome: RowOutcome,
    /// Why a row was refused, or what happened to an existing account.
    pub note: String,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub rows: Vec<RowReport>,
}

impl Report {
    pub fn count(&self, outcome: RowOutcome) -> usize {
        self.rows.iter().filter(|r| r.outcome == outcome).count()
    }

    pub fn created(&self) -> usize {
        self.count(RowOutcome::Created)
    }

    pub fn already_there(&self) -> usize {
        self.count(RowOutcome::AlreadyThere)
    }

    pub fn refused(&self) -> usize {
        self.count(RowOutcome::Refused)
    }

    pub fn invited(&self) -> usize {
        self.count(RowOutcome::Invited)
    }

    pub fn summary(&self) -> String {
        let mut summary = format!(
            "{} created, {} already there, {} refused",
            self.created(),
            self.already_there(),
            self.refused()
        );
        if self.invited() > 0 {
            summary.push_str(&format!(", {} invited to join", self.invited()));
        }
        summary
    }
}

/// Splits CSV text into records (RFC 4180: quoted fields may hold commas, quotes and new lines).
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                any = false;
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err("The file ends inside a quoted field: check its quotation marks".into());
    }
    if any {
        record.push(field);
        records.push(record);
    }
    // Blank lines carry nobody.
    records.retain(|r| !(r.len() == 1 && r[0].trim().is_empty()));
    Ok(records)
}

/// Where each column is, from the header.
struct Columns {
    first_name: usize,
    surname: usize,
    email: usize,
    grade: Option<usize>,
}

fn columns(header: &[String]) -> Result<Columns, String> {
    let names: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    let find = |name: &str| names.iter().position(|n| n == name);
    match (find("first_name"), find("surname"), find("email")) {
        (Some(first_name), Some(surname), Some(email)) => Ok(Columns {
            first_name,
            surname,
            email,
            grade: find("grade"),
        }),
        _ => Err(
            "The first line must be the header first_name,surname,email (and optionally grade)"
                .into(),
        ),
    }
}

/// Imports the file into `org` in the caller's transaction: the row-by-row report, or refused
/// (nothing imported) when the file as a whole cannot be read.
pub fn import(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: &Organisation,
    csv: &str,
) -> AppResult<Decision<Report>> {
    let records = match parse_csv(csv) {
        Ok(records) => records,
        Err(message) => return Ok(Decision::Refused(message)),
    };
    let Some((header, rows)) = records.split_first() else {
        return Ok(Decision::refused("The file is empty"));
    };
    let columns = match columns(header) {
        Ok(columns) => columns,
        Err(message) => return Ok(Decision::Refused(message)),
    };
    if rows.is_empty() {
        return Ok(Decision::refused("The file has a header but nobody in it"));
    }
    if rows.len() > MAX_ROWS {
        return Ok(Decision::Refused(format!(
            "The file has {} rows; import at most {MAX_ROWS} at a time",
            rows.len()
        )));
    }
    let batch = Batch {
        base_url,
        actor,
        org,
        columns,
    };
    let mut report = Report::default();
    for (i, row) in rows.iter().enumerate() {
        report.rows.push(import_row(conn, &batch, i + 2, row)?);
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::UsersImported)
            .organisation(org.id)
            .detail(format!(
                "{} imported {} rows: {}",
                actor.name(),
                report.rows.len(),
                report.summary()
            )),
    )?;
    Ok(Decision::Done(report))
}

/// What every row of one file shares.
struct Batch<'a> {
    base_url: &'a str,
    actor: &'a Actor<'a>,
    org: &'a Organisation,
    columns: Columns,
}

/// One row, `line` of the file.
fn import_row(
    conn: &mut PgConnection,
    batch: &Batch,
    line: usize,
    row: &[String],
) -> AppResult<RowReport> {
    let Batch {
        base_url,
        actor,
        org,
        ref columns,
    } = *batch;
    let cell = |i: usize| row.get(i).map_or("", |s| s.trim());
    let (first_name, surname, email) = (
        cell(columns.first_name),
        cell(columns.surname),
        cell(columns.email),
    );
    let grade = columns.grade.map_or("", cell);
    let mut report = RowReport {
        line,
        name: format!("{first_name} {surname}").trim().to_string(),
        email: email.to_string(),
        outcome: RowOutcome::Refused,
        note: String::new(),
    };
    let base = report.clone();
    let refuse = |note: String| {
        Ok(RowReport {
            note,
            ..base.clone()
        })
    };
    if row.len() < 3 {
        return refuse(format!("Expected at least 3 columns, found {}", row.len()));
    }
    let first = match PersonName::parse(first_name, "first name") {
        Ok(n) => n,
        Err(e) => return refuse(imported_message(&e.0)),
    };
    let last = match PersonName::parse(surname, "surname") {
        Ok(n) => n,
        Err(e) => return refuse(imported_message(&e.0)),
    };
    let grade = match Text::parse(grade, GRADE) {
        Ok(grade) => grade,
        Err(e) => return refuse(e.0),
    };
    let grade = grade.as_str();
    let by = actor.user.map(|u| u.id);
    if email.is_empty() {
        // A profile that cannot sign in yet, until it is merged into an account.
        let created = roster_profiles::insert_unlinked(
            conn,
            org.id,
            first.as_str(),
            last.as_str(),
            grade,
            by,
        )?;
        report.outcome = if created {
            audit::record(
                conn,
                &actor
                    .event(AuditAction::ProfileImported)
                    .organisation(org.id)
                    .detail(format!(
                        "{} imported a profile without an email address for {} {}",
                        actor.name(),
                        first.as_str(),
                        last.as_str()
                    )),
            )?;
            RowOutcome::Created
        } else {
            RowOutcome::AlreadyThere
        };
        report.note = "No email address: a profile that cannot sign in yet".into();
        return Ok(report);
    }
    let email = match EmailAddress::parse(email) {
        Ok(e) => e,
        Err(_) => return refuse(format!("{email} is not an email address")),
    };
    if !accounts::admits(conn, org, &email)? {
        return refuse(accounts::not_admitted(&email));
    }
    let newcomer = Newcomer {
        first_name: first,
        surname: last,
        email,
        medical_secretary: false,
        imported: true,
    };
    let carried = Carried {
        grade: Some(grade.to_string()),
        roster_profile: None,
    };
    match accounts::create_or_invite(conn, base_url, org, &newcomer, actor, &carried)? {
        Added::Created(user) => {
            upsert_profile(conn, org, &user, grade, by)?;
            report.outcome = RowOutcome::Created;
            report.note = "Sent an email to confirm the address and choose a password".into();
        }
        Added::AlreadyMember(user) => {
            upsert_profile(conn, org, &user, grade, by)?;
            report.outcome = RowOutcome::AlreadyThere;
            report.note = "Has an account in the organisation already".into();
        }
        Added::Invited { .. } => {
            report.outcome = RowOutcome::Invited;
            report.note = "Sent an invitation to join the organisation; the grade is recorded when they accept".into();
        }
    }
    Ok(report)
}

fn upsert_profile(
    conn: &mut PgConnection,
    org: &Organisation,
    user: &User,
    grade: &str,
    by: Option<UserId>,
) -> AppResult<()> {
    roster_profiles::upsert_for_user(
        conn,
        org.id,
        user.id,
        &user.first_name,
        &user.surname,
        grade,
        by,
    )?;
    Ok(())
}

/// "Enter your first name" reads oddly in a report about someone else.
fn imported_message(message: &str) -> String {
    message.replace("Enter your", "No").replace("Your ", "The ")
}

/// Runs the import and rolls it back: the preview shows exactly what importing would do.
fn preview(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: &Organisation,
    csv: &str,
) -> AppResult<Decision<Report>> {
    type Manager = <PgConnection as Connection>::TransactionManager;
    Manager::begin_transaction(conn)?;
    let previewed = import(conn, base_url, actor, org, csv);
    Manager::rollback_transaction(conn)?;
    previewed
}

/// An upload on the Import page: the file's text, to import or only to preview.
pub struct Upload {
    pub csv: String,
    pub preview: bool,
}

/// The Import page's import (or preview), by someone who may import into the organisation.
pub fn upload(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: OrganisationId,
    upload: &Upload,
) -> AppResult<Decision<Report>> {
    let org = permissions::import_users(conn, actor.user()?, org)?;
    if upload.preview {
        preview(conn, base_url, actor, &org, &upload.csv)
    } else {
        import(conn, base_url, actor, &org, &upload.csv)
    }
}

/// Keeps a finished import's report for the page after the upload (replacing the person's
/// earlier one); the id to show it by.
pub fn keep_report(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
    report: &Report,
) -> AppResult<ImportReportId> {
    let id = ImportReportId::new();
    let json = serde_json::to_string(report).map_err(|e| AppError::Unexpected(e.into()))?;
    import_reports::keep(conn, id, org, user.id, &json)?;
    Ok(id)
}

/// This person's kept report, if they may still import here; anything else is not found.
pub fn kept_report(
    conn: &mut PgConnection,
    user: &User,
    org: OrganisationId,
    id: ImportReportId,
) -> AppResult<Report> {
    permissions::import_users(conn, user, org)?;
    let json = import_reports::find(conn, id, org, user.id)?.ok_or(AppError::NotFound)?;
    serde_json::from_str(&json).map_err(|e| AppError::Unexpected(e.into()))
}

/// The email-less profile, and the organisation's workspaces `user` may invite members into.
pub fn invitable(
    conn: &mut PgConnection,
    user: &User,
    org: &Organisation,
    profile: uuid::Uuid,
) -> AppResult<(RosterProfile, Vec<Workspace>)> {
    let profile = roster_profiles::unlinked(conn, org.id, "", i64::MAX)?
        .into_iter()
        .find(|p| p.id == profile)
        .ok_or(AppError::NotFound)?;
    let mut open_to_admin = Vec::new();
    for listed in workspaces::listed_in(conn, org.id)? {
        let access = permissions::workspace(conn, user, listed.workspace.id)?;
        if permissions::may_invite_as(&access, WorkspaceRole::Member) {
            open_to_admin.push(listed.workspace);
        }
    }
    Ok((profile, open_to_admin))
}

/// The address given to a profile and the invitation to send it, as the form gives them.
pub struct ProfileInvite {
    pub email: EmailAddress,
    pub workspace: WorkspaceId,
    /// Member or admin: an organisation's own people are not guests.
    pub role: WorkspaceRole,
}

/// The refusal of a workspace the administrator may not invite into.
pub const CHOOSE_WORKSPACE: &str = "Choose the workspace to invite them to";
/// The refusal of a role the administrator may not invite with there.
pub const ROLE_NOT_ALLOWED: &str = "You cannot invite people with this role to that workspace";

/// What to tell the administrator, and the account to show them: the one the profile became
/// or was linked to; `None` when the address has an account outside the organisation, which
/// was invited to join (and is not theirs to see until it accepts).
pub struct Recorded {
    pub account: Option<UserId>,
    pub message: String,
}

/// Records the address of an email-less profile and invites it: the profile becomes an account
/// (no password yet, confirmed by the invitation link when they create their sign-in), or is
/// linked to the account of someone in the organisation. An address with an account outside the
/// organisation is invited to join it instead (the profile becomes theirs when they accept).
/// Either way the invitation to the workspace is sent to the address.
pub fn invite_profile(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: OrganisationId,
    profile: uuid::Uuid,
    invite: &ProfileInvite,
) -> AppResult<Decision<Recorded>> {
    let user = actor.user()?;
    let org = permissions::administer_users(conn, user, org)?;
    let (profile, choices) = invitable(conn, user, &org, profile)?;
    let email = &invite.email;
    if !organisations::admits(conn, org.id, email.as_str())? {
        return Ok(Decision::Refused(accounts::not_admitted(email)));
    }
    if !choices.iter().any(|w| w.id == invite.workspace) {
        return Ok(Decision::refused(CHOOSE_WORKSPACE));
    }
    let workspace = workspaces::lock(conn, invite.workspace)?;
    let access = permissions::workspace(conn, user, workspace.id)?;
    if !permissions::may_invite_as(&access, invite.role) {
        return Ok(Decision::refused(ROLE_NOT_ALLOWED));
    }
    let account = match users::find_by_email(conn, email)? {
        Some(existing)
            if organisations::standing(conn, org.id, existing.id)?
                != organisations::Standing::Member =>
        {
            let carried = Carried {
                grade: None,
                roster_profile: Some(profile.id),
            };
            organisation_invitations::invite(conn, base_url, actor, &org, &existing, &carried)?;
            None
        }
        Some(member) => Some(member),
        None => Some(users::insert(
            conn,
            &users::NewUser {
                id: UserId::new(),
                email: email.as_str(),
                first_name: &profile.first_name,
                surname: &profile.surname,
                password_hash: None,
                email_verified_at: None,
                medical_secretary: false,
                imported: true,
            },
        )?),
    };
    if let Some(account) = &account {
        organisations::add_member(conn, org.id, account.id)?;
        roster_profiles::link(conn, org.id, profile.id, account.id)?;
        audit::record(
            conn,
            &actor
                .event(AuditAction::ProfileAddressRecorded)
                .target(account.id)
                .organisation(org.id)
                .detail(format!(
                    "{} recorded {email} for the rostered profile {}",
                    user.full_name(),
                    profile.full_name()
                )),
        )?;
    }
    let request = invitations::Request {
        invitees: vec![(email.to_string(), Ok(Invitee::Email(email.clone())))],
        team: None,
        role: invite.role,
        guest_until: None,
    };
    // A refused invitation still leaves the address recorded: the line says why.
    let line = match invitations::invite(conn, base_url, actor, workspace.id, request)? {
        Decision::Done(mut lines) => lines.pop().map(|(_, line, _)| line),
        Decision::Refused(reason) => Some(reason),
    }
    .unwrap_or_default();
    Ok(Decision::Done(Recorded {
        account: account.map(|a| a.id),
        // The same words whoever the address belongs to.
        message: format!(
            "{email} recorded. Invitation to {}: {line}.",
            workspace.name
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_hold_commas_quotes_and_new_lines() {
        let records = parse_csv(
            "first_name,surname,email\r\n\"Kim, Jr\",\"O\"\"Neil\",kim@nhs.net\n\nA,B,\n",
        )
        .unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1], ["Kim, Jr", "O\"Neil", "kim@nhs.net"]);
        assert_eq!(records[2], ["A", "B", ""]);
        assert!(parse_csv("a,\"b").is_err());
    }

    #[test]
    fn the_header_names_the_columns_in_any_order() {
        let header: Vec<String> = ["Email", "grade", "surname", "first_name"]
            .map(String::from)
            .to_vec();
        let c = columns(&header).unwrap();
        assert_eq!(
            (c.first_name, c.surname, c.email, c.grade),
            (3, 2, 0, Some(1))
        );
        assert!(columns(&["name".to_string()]).is_err());
    }
}
