//! The `contacts` table: the people outside an organisation that it works with (clients,
//! carers, external professionals), with who added each and when. One contact per email
//! address or mobile number in an organisation; the likely duplicates are those with the same
//! names whose addresses do not disagree, and merging two is one transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};

use crate::db::schema::{contacts, users, workspace_contacts};
use crate::domain::{ContactId, EmailAddress, MobileNumber, OrganisationId, UserId};

/// The newest this many matches are shown on the contacts page.
pub const SHOWN: i64 = 100;

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = contacts)]
pub struct Contact {
    pub id: ContactId,
    pub organisation_id: OrganisationId,
    pub first_name: String,
    pub surname: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub added_by: Option<UserId>,
    pub added_at: DateTime<Utc>,
}

impl Contact {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.surname)
    }

    /// The mobile number as people write it (07700 900123).
    pub fn mobile_national(&self) -> Option<String> {
        self.mobile.as_deref().map(|m| {
            MobileNumber::parse(m).map_or_else(|_| m.to_string(), |parsed| parsed.national())
        })
    }
}

pub struct NewContact<'a> {
    pub organisation_id: OrganisationId,
    pub first_name: &'a str,
    pub surname: &'a str,
    pub email: Option<&'a EmailAddress>,
    pub mobile: Option<&'a MobileNumber>,
    pub added_by: UserId,
}

/// The new contact; `None` when its address is another contact's already (the caller looks
/// that one up: two people adding the same address at once make one contact).
pub fn insert(conn: &mut PgConnection, new: &NewContact) -> QueryResult<Option<Contact>> {
    diesel::insert_into(contacts::table)
        .values((
            contacts::id.eq(ContactId::new()),
            contacts::organisation_id.eq(new.organisation_id),
            contacts::first_name.eq(new.first_name),
            contacts::surname.eq(new.surname),
            contacts::email.eq(new.email.map(EmailAddress::as_str)),
            contacts::mobile.eq(new.mobile.map(MobileNumber::as_str)),
            contacts::added_by.eq(new.added_by),
        ))
        .on_conflict_do_nothing()
        .returning(Contact::as_returning())
        .get_result(conn)
        .optional()
}

/// The organisation's contact with this email address or mobile number, if any.
pub fn find_by_address(
    conn: &mut PgConnection,
    org: OrganisationId,
    email: Option<&EmailAddress>,
    mobile: Option<&MobileNumber>,
) -> QueryResult<Option<Contact>> {
    // The email address wins when the two belong to different contacts.
    if let Some(email) = email {
        let found = contacts::table
            .filter(contacts::organisation_id.eq(org))
            .filter(contacts::email.eq(email.as_str()))
            .select(Contact::as_select())
            .first(conn)
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    let Some(mobile) = mobile else {
        return Ok(None);
    };
    contacts::table
        .filter(contacts::organisation_id.eq(org))
        .filter(contacts::mobile.eq(mobile.as_str()))
        .select(Contact::as_select())
        .first(conn)
        .optional()
}

/// The contact with this id in this organisation (another organisation's ids are not found).
pub fn find_in(
    conn: &mut PgConnection,
    org: OrganisationId,
    id: ContactId,
) -> QueryResult<Contact> {
    contacts::table
        .filter(contacts::id.eq(id))
        .filter(contacts::organisation_id.eq(org))
        .select(Contact::as_select())
        .first(conn)
}

/// The same, locked for a change.
pub fn lock_in(
    conn: &mut PgConnection,
    org: OrganisationId,
    id: ContactId,
) -> QueryResult<Contact> {
    contacts::table
        .filter(contacts::id.eq(id))
        .filter(contacts::organisation_id.eq(org))
        .select(Contact::as_select())
        .for_update()
        .first(conn)
}

/// Gives an email-less contact an address; `false` when the contact has one now, or another
/// contact of the organisation has this one.
pub fn set_email(
    conn: &mut PgConnection,
    id: ContactId,
    email: &EmailAddress,
) -> QueryResult<bool> {
    let org: OrganisationId = contacts::table
        .find(id)
        .select(contacts::organisation_id)
        .first(conn)?;
    let taken = contacts::table
        .filter(contacts::organisation_id.eq(org))
        .filter(contacts::email.eq(email.as_str()))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if taken {
        return Ok(false);
    }
    diesel::update(contacts::table.find(id).filter(contacts::email.is_null()))
        .set(contacts::email.eq(email.as_str()))
        .execute(conn)
        .map(|n| n == 1)
}

/// One line of the contacts page: the contact and who added them.
pub struct Listed {
    pub contact: Contact,
    pub added_by: Option<String>,
}

/// The organisation's contacts whose first name or surname contains every word of `query`
/// (the trigram indexes serve the ILIKEs), by surname.
pub fn search(
    conn: &mut PgConnection,
    org: OrganisationId,
    query: &str,
    limit: i64,
) -> QueryResult<Vec<Listed>> {
    let mut q = contacts::table
        .left_join(users::table.on(contacts::added_by.eq(users::id.nullable())))
        .filter(contacts::organisation_id.eq(org))
        .into_boxed();
    for word in query.split_whitespace() {
        let pattern = super::people::contains_pattern(word);
        q = q.filter(
            contacts::first_name
                .ilike(pattern.clone())
                .or(contacts::surname.ilike(pattern)),
        );
    }
    let rows: Vec<(Contact, Option<(String, String)>)> = q
        .order((contacts::surname, contacts::first_name, contacts::id))
        .limit(limit)
        .select((
            Contact::as_select(),
            (users::first_name, users::surname).nullable(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(contact, by)| Listed {
            contact,
            added_by: by.map(|(first, last)| format!("{first} {last}")),
        })
        .collect())
}

/// `a` and `b` are likely one person: the same first name and surname (whatever the case and
/// spaces), and their addresses do not disagree (no two different email addresses, no two
/// different mobile numbers). The one rule for the flags and for what may be merged.
const SAME_PERSON: &str = "(
    a.id <> b.id AND a.organisation_id = b.organisation_id
    AND lower(btrim(a.first_name)) = lower(btrim(b.first_name))
    AND lower(btrim(a.surname)) = lower(btrim(b.surname))
    AND (a.email IS NULL OR b.email IS NULL OR a.email = b.email)
    AND (a.mobile IS NULL OR b.mobile IS NULL OR a.mobile = b.mobile))";

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = SqlUuid)]
    a: ContactId,
    #[diesel(sql_type = SqlUuid)]
    b: ContactId,
    #[diesel(sql_type = Text)]
    b_name: String,
}

/// For each of `listed` with a likely duplicate: (the contact, the duplicate, its name).
pub fn likely_duplicates(
    conn: &mut PgConnection,
    org: OrganisationId,
    listed: &[ContactId],
) -> QueryResult<Vec<(ContactId, ContactId, String)>> {
    let ids: Vec<uuid::Uuid> = listed.iter().map(|c| c.0).collect();
    let pairs: Vec<Pair> = diesel::sql_query(format!(
        "SELECT a.id AS a, b.id AS b, b.first_name || ' ' || b.surname AS b_name
           FROM contacts a JOIN contacts b ON b.organisation_id = $1 AND {SAME_PERSON}
          WHERE a.organisation_id = $1 AND a.id = ANY($2)
          ORDER BY a.id, b.added_at, b.id"
    ))
    .bind::<SqlUuid, _>(org)
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
    .load(conn)?;
    Ok(pairs.into_iter().map(|p| (p.a, p.b, p.b_name)).collect())
}

/// Whether the two (locked) contacts are likely one person.
pub fn are_likely_duplicates(
    conn: &mut PgConnection,
    a: ContactId,
    b: ContactId,
) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        same: bool,
    }
    let found: Found = diesel::sql_query(format!(
        "SELECT EXISTS (SELECT 1 FROM contacts a, contacts b
                         WHERE a.id = $1 AND b.id = $2 AND {SAME_PERSON}) AS same"
    ))
    .bind::<SqlUuid, _>(a)
    .bind::<SqlUuid, _>(b)
    .get_result(conn)?;
    Ok(found.same)
}

/// Merges `other` into `kept`: `kept` keeps its names and takes whichever address it lacks,
/// and the workspaces `other` was in (with their invitations) move over; `other` is deleted.
/// The caller holds both rows locked and has checked they are likely one person.
pub fn merge_into(conn: &mut PgConnection, kept: &Contact, other: &Contact) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO workspace_contacts (workspace_id, contact_id, invitation_id, added_by, added_at)
         SELECT workspace_id, $1, invitation_id, added_by, added_at
           FROM workspace_contacts WHERE contact_id = $2
         ON CONFLICT (workspace_id, contact_id) DO UPDATE
           SET invitation_id = COALESCE(workspace_contacts.invitation_id, EXCLUDED.invitation_id)",
    )
    .bind::<SqlUuid, _>(kept.id)
    .bind::<SqlUuid, _>(other.id)
    .execute(conn)?;
    diesel::delete(workspace_contacts::table.filter(workspace_contacts::contact_id.eq(other.id)))
        .execute(conn)?;
    diesel::delete(contacts::table.find(other.id)).execute(conn)?;
    diesel::update(contacts::table.find(kept.id))
        .set((
            contacts::email.eq(kept.email.clone().or_else(|| other.email.clone())),
            contacts::mobile.eq(kept.mobile.clone().or_else(|| other.mobile.clone())),
            contacts::added_at.eq(kept.added_at.min(other.added_at)),
        ))
        .execute(conn)?;
    Ok(())
}
