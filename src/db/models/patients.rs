//! The `patients` table: a workspace's shared patient list, or one user's personal list. Every
//! query names the list it reads (`WHERE workspace_id = $1` or `WHERE owner_id = $1`), so a
//! patient id from another list is not found.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::schema::patients;
use crate::domain::{PatientId, UserId, WorkspaceId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = patients)]
pub struct Patient {
    pub id: PatientId,
    pub workspace_id: Option<WorkspaceId>,
    pub owner_id: Option<UserId>,
    pub nhs_number: String,
    pub first_name: String,
    pub surname: String,
    pub date_of_birth: NaiveDate,
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_by: Option<UserId>,
    pub updated_at: DateTime<Utc>,
}

impl Patient {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.surname)
    }

    /// 943 476 5919.
    pub fn nhs_number_spaced(&self) -> String {
        crate::domain::nhs_number::spaced(&self.nhs_number)
    }

    /// 07700 900123.
    pub fn mobile_national(&self) -> Option<String> {
        self.mobile.as_deref().map(|m| {
            crate::domain::MobileNumber::parse(m).map_or_else(|_| m.to_string(), |m| m.national())
        })
    }

    pub fn is_personal(&self) -> bool {
        self.owner_id.is_some()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = patients)]
pub struct NewPatient<'a> {
    pub id: PatientId,
    pub workspace_id: Option<WorkspaceId>,
    pub owner_id: Option<UserId>,
    pub created_by: Option<UserId>,
    /// The record itself, as a correction writes it too.
    #[diesel(embed)]
    pub record: PatientChanges<'a>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = patients, treat_none_as_null = true)]
pub struct PatientChanges<'a> {
    pub nhs_number: &'a str,
    pub first_name: &'a str,
    pub surname: &'a str,
    pub date_of_birth: NaiveDate,
    pub mobile: Option<&'a str>,
    pub email: Option<&'a str>,
    pub updated_by: Option<UserId>,
}

/// Which list a patient belongs to.
#[derive(Debug, Clone, Copy)]
pub enum List {
    Workspace(WorkspaceId),
    Personal(UserId),
}

/// Adds a patient; `None` when the list already holds this NHS number.
pub fn insert(conn: &mut PgConnection, new: &NewPatient) -> QueryResult<Option<Patient>> {
    diesel::insert_into(patients::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(Patient::as_returning())
        .get_result(conn)
        .optional()
}

/// A list in surname order.
pub fn in_list(conn: &mut PgConnection, list: List, limit: i64) -> QueryResult<Vec<Patient>> {
    let query = patients::table
        .select(Patient::as_select())
        .order((patients::surname, patients::first_name, patients::id))
        .limit(limit)
        .into_boxed();
    match list {
        List::Workspace(ws) => query.filter(patients::workspace_id.eq(ws)),
        List::Personal(owner) => query.filter(patients::owner_id.eq(owner)),
    }
    .load(conn)
}

/// The patient with this id in this list (any other list's id is not found).
pub fn find_in(conn: &mut PgConnection, list: List, id: PatientId) -> QueryResult<Patient> {
    let query = patients::table
        .filter(patients::id.eq(id))
        .select(Patient::as_select())
        .into_boxed();
    match list {
        List::Workspace(ws) => query.filter(patients::workspace_id.eq(ws)),
        List::Personal(owner) => query.filter(patients::owner_id.eq(owner)),
    }
    .first(conn)
}

/// The patient with this id, whatever list holds it: only after a permission check found it
/// through a conversation the caller sees.
pub fn find(conn: &mut PgConnection, id: PatientId) -> QueryResult<Patient> {
    patients::table
        .find(id)
        .select(Patient::as_select())
        .first(conn)
}

/// These patients (by id): the patients of conversations the caller may see.
pub fn by_ids(conn: &mut PgConnection, ids: &[PatientId]) -> QueryResult<Vec<Patient>> {
    patients::table
        .filter(patients::id.eq_any(ids))
        .select(Patient::as_select())
        .load(conn)
}

/// Locks the patient's row: sends to one patient take turns, so they share one open
/// conversation.
pub fn lock(conn: &mut PgConnection, id: PatientId) -> QueryResult<Patient> {
    patients::table
        .find(id)
        .select(Patient::as_select())
        .for_update()
        .first(conn)
}

/// Whether another record in the same list holds this NHS number.
pub fn nhs_number_taken(
    conn: &mut PgConnection,
    list: List,
    nhs_number: &str,
    except: Option<PatientId>,
) -> QueryResult<bool> {
    let mut query = patients::table
        .filter(patients::nhs_number.eq(nhs_number))
        .select(patients::id)
        .into_boxed();
    query = match list {
        List::Workspace(ws) => query.filter(patients::workspace_id.eq(ws)),
        List::Personal(owner) => query.filter(patients::owner_id.eq(owner)),
    };
    if let Some(except) = except {
        query = query.filter(patients::id.ne(except));
    }
    Ok(query.first::<PatientId>(conn).optional()?.is_some())
}

pub fn update(
    conn: &mut PgConnection,
    id: PatientId,
    changes: &PatientChanges,
) -> QueryResult<Patient> {
    diesel::update(patients::table.find(id))
        .set((changes, patients::updated_at.eq(diesel::dsl::now)))
        .returning(Patient::as_returning())
        .get_result(conn)
}
