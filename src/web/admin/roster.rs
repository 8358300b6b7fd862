//! The import of rostered medics, shared by the Import page and `staffroom import-users`: a CSV
//! with the header `first_name,surname,email[,grade]`, one person a row. An address that has
//! an account refers to it (so importing a file twice creates nobody twice); a row without an
//! email address makes a profile that cannot sign in yet; a bad row is refused with its reason
//! and the others still go in. The whole file is one transaction with its audit and its mail.

use crate::domain::AuditAction;
use diesel::prelude::*;

use super::accounts::{self, Actor, Newcomer, Outcome};
use crate::db::models::organisations::Organisation;
use crate::db::models::roster_profiles;
use crate::domain::{EmailAddress, PersonName};
use crate::error::{AppError, AppResult};

/// A roster larger than this is split by the trust before import.
pub const MAX_ROWS: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    Created,
    AlreadyThere,
    Refused,
}

impl RowOutcome {
    pub fn label(self) -> &'static str {
        match self {
            RowOutcome::Created => "Created",
            RowOutcome::AlreadyThere => "Already there",
            RowOutcome::Refused => "Refused",
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            RowOutcome::Created => "nhsuk-tag--green",
            RowOutcome::AlreadyThere => "nhsuk-tag--grey",
            RowOutcome::Refused => "nhsuk-tag--red",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RowReport {
    /// The line in the file (the header is line 1).
    pub line: usize,
    pub name: String,
    pub email: String,
    pub outcome: RowOutcome,
    /// Why a row was refused, or what happened to an existing account.
    pub note: String,
}

#[derive(Debug, Clone, Default)]
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

    pub fn summary(&self) -> String {
        format!(
            "{} created, {} already there, {} refused",
            self.created(),
            self.already_there(),
            self.refused()
        )
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

/// Imports the file into `org` in the caller's transaction. `Err(message)` when the file as a
/// whole cannot be read (nothing is imported); otherwise the row-by-row report.
pub fn import(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    csv: &str,
    actor: &Actor,
) -> AppResult<Result<Report, String>> {
    let records = match parse_csv(csv) {
        Ok(records) => records,
        Err(message) => return Ok(Err(message)),
    };
    let Some((header, rows)) = records.split_first() else {
        return Ok(Err("The file is empty".into()));
    };
    let columns = match columns(header) {
        Ok(columns) => columns,
        Err(message) => return Ok(Err(message)),
    };
    if rows.is_empty() {
        return Ok(Err("The file has a header but nobody in it".into()));
    }
    if rows.len() > MAX_ROWS {
        return Ok(Err(format!(
            "The file has {} rows; import at most {MAX_ROWS} at a time",
            rows.len()
        )));
    }
    let mut report = Report::default();
    for (i, row) in rows.iter().enumerate() {
        report.rows.push(import_row(
            conn,
            base_url,
            org,
            &columns,
            i + 2,
            row,
            actor,
        )?);
    }
    crate::db::models::audit::record(
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
    Ok(Ok(report))
}

fn import_row(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    columns: &Columns,
    line: usize,
    row: &[String],
    actor: &Actor,
) -> AppResult<RowReport> {
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
    if grade.chars().count() > 100 || grade.chars().any(char::is_control) {
        return refuse("The grade must be 100 characters or fewer".into());
    }
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
            crate::db::models::audit::record(
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
        return refuse(format!(
            "{email} is not in the organisation's email domains"
        ));
    }
    let newcomer = Newcomer {
        first_name: first,
        surname: last,
        email,
        medical_secretary: false,
        imported: true,
    };
    let outcome = accounts::create_or_refer(conn, base_url, org, &newcomer, actor)?;
    let user = outcome.user();
    roster_profiles::upsert_for_user(
        conn,
        org.id,
        user.id,
        &user.first_name,
        &user.surname,
        grade,
        by,
    )?;
    match outcome {
        Outcome::Created(_) => {
            report.outcome = RowOutcome::Created;
            report.note = "Sent an email to confirm the address and choose a password".into();
        }
        Outcome::Existing { joined, .. } => {
            report.outcome = RowOutcome::AlreadyThere;
            report.note = if joined {
                "Has an account already: added to the organisation".into()
            } else {
                "Has an account in the organisation already".into()
            };
        }
    }
    Ok(report)
}

/// "Enter your first name" reads oddly in a report about someone else.
fn imported_message(message: &str) -> String {
    message.replace("Enter your", "No").replace("Your ", "The ")
}

/// Runs the import and rolls it back: the preview shows exactly what importing would do.
pub fn preview(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    csv: &str,
    actor: &Actor,
) -> AppResult<Result<Report, String>> {
    enum Undo {
        Done(Result<Report, String>),
        Failed(AppError),
    }
    impl From<diesel::result::Error> for Undo {
        fn from(e: diesel::result::Error) -> Self {
            Undo::Failed(e.into())
        }
    }
    let undone =
        conn.transaction::<(), Undo, _>(|conn| match import(conn, base_url, org, csv, actor) {
            Ok(done) => Err(Undo::Done(done)),
            Err(e) => Err(Undo::Failed(e)),
        });
    match undone {
        Err(Undo::Done(done)) => Ok(done),
        Err(Undo::Failed(e)) => Err(e),
        Ok(()) => unreachable!("the preview always rolls back"),
    }
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
