//! The `conversations` table: one patient in one workspace, a thread of messages. New messages
//! to the patient join the open conversation; "done" closes it and the next message opens a new
//! one. Who may see which conversations is part of every query here (`Visibility`), so the
//! page, the links and the actions all answer from the same WHERE clause.

use crate::domain::ConversationStatus;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};

use crate::db::models::messages::Message;
use crate::db::schema::{conversations, messages, patients};
use crate::domain::{ConversationId, PatientId, UserId, WorkspaceId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub patient_id: PatientId,
    pub started_by: Option<UserId>,
    pub assigned_to: Option<UserId>,
    pub status: ConversationStatus,
    pub created_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub last_message_id: Option<i64>,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<UserId>,
}

impl Conversation {
    pub fn is_open(&self) -> bool {
        self.status == ConversationStatus::Open
    }
}

/// Which of a workspace's conversations someone sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Approved colleagues: every conversation in the workspace.
    All,
    /// Pending members: the conversations they sent a message in.
    SentBy(UserId),
    /// Guests: the conversations assigned to them.
    AssignedTo(UserId),
}

/// The "Assigned to" filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned {
    Anyone,
    Unassigned,
    To(UserId),
}

/// Where a page starts: after this conversation in the list's order (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: ConversationId,
}

impl Cursor {
    /// `{microseconds}_{uuid}`, for the "Older" link.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.at.timestamp_micros(), self.id)
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let (micros, id) = raw.split_once('_')?;
        Some(Self {
            at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

/// What the list asks for.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    pub assigned: Assigned,
    /// `Some(ConversationStatus::Open)` or `Some(ConversationStatus::Done)`; `None` for both.
    pub status: Option<ConversationStatus>,
    pub before: Option<Cursor>,
}

/// The conversations of `workspace` that `visibility` lets through: the WHERE clause every
/// read of this table starts from.
fn visible(
    workspace: WorkspaceId,
    visibility: Visibility,
) -> conversations::BoxedQuery<'static, Pg> {
    let query = conversations::table
        .filter(conversations::workspace_id.eq(workspace))
        .into_boxed();
    match visibility {
        Visibility::All => query,
        // Only about their own (personal) patients: someone removed who asks to join again
        // must not get the workspace's patients back through what they once sent.
        Visibility::SentBy(user) => query
            .filter(
                conversations::id.eq_any(
                    messages::table
                        .filter(messages::workspace_id.eq(workspace))
                        .filter(messages::sender_id.eq(user))
                        .select(messages::conversation_id),
                ),
            )
            .filter(
                conversations::patient_id.eq_any(
                    patients::table
                        .filter(patients::owner_id.eq(user))
                        .select(patients::id),
                ),
            ),
        Visibility::AssignedTo(user) => query.filter(conversations::assigned_to.eq(user)),
    }
}

/// One page of the list, newest first: the query itself (for `page` and for `explain_page`).
fn page_query(
    workspace: WorkspaceId,
    visibility: Visibility,
    filter: Filter,
    limit: i64,
) -> conversations::BoxedQuery<'static, Pg> {
    let mut query = visible(workspace, visibility);
    query = match filter.assigned {
        Assigned::Anyone => query,
        Assigned::Unassigned => query.filter(conversations::assigned_to.is_null()),
        Assigned::To(user) => query.filter(conversations::assigned_to.eq(user)),
    };
    if let Some(status) = filter.status {
        query = query.filter(conversations::status.eq(status));
    }
    if let Some(before) = filter.before {
        // (last_message_at, id) < (at, id), with the first half alone as the index's bound.
        query = query
            .filter(conversations::last_message_at.le(before.at))
            .filter(
                conversations::last_message_at
                    .lt(before.at)
                    .or(conversations::last_message_at
                        .eq(before.at)
                        .and(conversations::id.lt(before.id))),
            );
    }
    query
        .order((
            conversations::last_message_at.desc(),
            conversations::id.desc(),
        ))
        .limit(limit)
}

pub fn page(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    visibility: Visibility,
    filter: Filter,
    limit: i64,
) -> QueryResult<Vec<Conversation>> {
    page_query(workspace, visibility, filter, limit)
        .select(Conversation::as_select())
        .load(conn)
}

/// PostgreSQL's plan for `page`, one line per row (to show which index answers each filter).
pub fn explain_page(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    visibility: Visibility,
    filter: Filter,
    limit: i64,
) -> QueryResult<Vec<String>> {
    Explain(page_query(workspace, visibility, filter, limit).select(Conversation::as_select()))
        .load(conn)
}

/// The conversation with this id, if this person may see it (anything else is not found).
pub fn find_visible(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    visibility: Visibility,
    id: ConversationId,
) -> QueryResult<Conversation> {
    visible(workspace, visibility)
        .filter(conversations::id.eq(id))
        .select(Conversation::as_select())
        .first(conn)
}

/// The open conversation with this patient in this workspace, if any (whoever may see it).
pub fn open_for_patient(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    patient: PatientId,
) -> QueryResult<Option<Conversation>> {
    conversations::table
        .filter(conversations::workspace_id.eq(workspace))
        .filter(conversations::patient_id.eq(patient))
        .filter(conversations::status.eq(ConversationStatus::Open))
        .select(Conversation::as_select())
        .first(conn)
        .optional()
}

/// Whether someone with `visibility` sees a conversation with this patient here (a guest
/// replying in a conversation assigned to them, say).
pub fn patient_visible(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    visibility: Visibility,
    patient: PatientId,
) -> QueryResult<bool> {
    Ok(visible(workspace, visibility)
        .filter(conversations::patient_id.eq(patient))
        .select(conversations::id)
        .first::<ConversationId>(conn)
        .optional()?
        .is_some())
}

/// Opens a conversation (the caller holds the patient's row lock and found none open).
pub fn open(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    patient: PatientId,
    started_by: UserId,
    assigned_to: Option<UserId>,
) -> QueryResult<Conversation> {
    diesel::insert_into(conversations::table)
        .values((
            conversations::id.eq(ConversationId::new()),
            conversations::workspace_id.eq(workspace),
            conversations::patient_id.eq(patient),
            conversations::started_by.eq(started_by),
            conversations::assigned_to.eq(assigned_to),
            conversations::status.eq(ConversationStatus::Open),
        ))
        .returning(Conversation::as_returning())
        .get_result(conn)
}

/// Records the newest message as the one the list shows.
pub fn note_message(conn: &mut PgConnection, message: &Message) -> QueryResult<usize> {
    diesel::update(conversations::table.find(message.conversation_id))
        .set((
            conversations::last_message_at.eq(message.created_at),
            conversations::last_message_id.eq(message.id),
        ))
        .execute(conn)
}

/// Assigns a visible conversation (or unassigns it, with `None`).
pub fn assign(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: ConversationId,
    to: Option<UserId>,
) -> QueryResult<bool> {
    let updated = diesel::update(
        conversations::table
            .filter(conversations::workspace_id.eq(workspace))
            .filter(conversations::id.eq(id)),
    )
    .set(conversations::assigned_to.eq(to))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Marks an open conversation done; false when it was done already.
pub fn mark_done(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    id: ConversationId,
    by: UserId,
) -> QueryResult<bool> {
    let updated = diesel::update(
        conversations::table
            .filter(conversations::workspace_id.eq(workspace))
            .filter(conversations::id.eq(id))
            .filter(conversations::status.eq(ConversationStatus::Open)),
    )
    .set((
        conversations::status.eq(ConversationStatus::Done),
        conversations::done_at.eq(diesel::dsl::now),
        conversations::done_by.eq(by),
    ))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Someone left the workspace or was removed: their conversations stay in the workspace,
/// unassigned, for the colleagues to pick up.
pub fn unassign_member(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    user: UserId,
) -> QueryResult<usize> {
    diesel::update(
        conversations::table
            .filter(conversations::workspace_id.eq(workspace))
            .filter(conversations::assigned_to.eq(user)),
    )
    .set(conversations::assigned_to.eq(None::<UserId>))
    .execute(conn)
}

/// People's names by id ("Assigned to" in the list): (id, first name, surname).
pub fn names(conn: &mut PgConnection, ids: &[UserId]) -> QueryResult<Vec<(UserId, String)>> {
    use crate::db::schema::users;
    let rows: Vec<(UserId, String, String)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::first_name, users::surname))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, first, last)| (id, format!("{first} {last}")))
        .collect())
}

/// `EXPLAIN` in front of a query, its rows the plan's lines.
#[derive(Debug, Clone)]
struct Explain<Q>(Q);

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = diesel::sql_types::Text;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("EXPLAIN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> RunQueryDsl<PgConnection> for Explain<Q> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip() {
        let cursor = Cursor {
            at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: ConversationId::new(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("nonsense"), None);
        assert_eq!(Cursor::decode("12_not-a-uuid"), None);
    }
}

/// Counts on the home page stop here ("99+"): a capped count reads at most this many index
/// entries, whatever the workspace's size.
pub const INBOX_CAP: i64 = 99;

/// A workspace's home: what waits for this person, in one statement.
#[derive(Debug, Clone, Default)]
pub struct Inbox {
    /// Open conversations assigned to them (capped at `INBOX_CAP + 1`).
    pub assigned_to_me: i64,
    /// Open conversations nobody holds yet (colleagues only; capped).
    pub unassigned: i64,
    /// People asking to join (for the workspace's admins; capped).
    pub waiting: i64,
    /// The latest open conversations they see, newest first.
    pub latest: Vec<InboxLine>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct InboxLine {
    pub id: ConversationId,
    pub patient: String,
    pub last_message_at: DateTime<Utc>,
    pub assigned_to: Option<UserId>,
    pub assignee: Option<String>,
    /// The start of the latest message.
    pub latest: Option<String>,
}

#[derive(QueryableByName)]
struct InboxRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    assigned_to_me: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    unassigned: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    waiting: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    latest: String,
}

/// The inbox's one statement: `$1` workspace, `$2` me, `$3` only mine, `$4` admin, `$5` the
/// cap of each count, `$6` how many of the latest.
const INBOX: &str = "SELECT
           (SELECT count(*) FROM (SELECT 1 FROM conversations c
              WHERE c.workspace_id = $1 AND c.status = 'open' AND c.assigned_to = $2
              LIMIT $5 + 1) a) AS assigned_to_me,
           (SELECT count(*) FROM (SELECT 1 FROM conversations c
              WHERE NOT $3 AND c.workspace_id = $1 AND c.status = 'open' AND c.assigned_to IS NULL
              LIMIT $5 + 1) u) AS unassigned,
           (SELECT count(*) FROM (SELECT 1 FROM workspace_members m
              WHERE $4 AND m.workspace_id = $1 AND m.status = 'pending'
              LIMIT $5 + 1) w) AS waiting,
           coalesce((SELECT json_agg(l ORDER BY l.last_message_at DESC, l.id DESC) FROM (
              SELECT c.id, p.first_name || ' ' || p.surname AS patient, c.last_message_at,
                     c.assigned_to, u.first_name || ' ' || u.surname AS assignee,
                     left(m.body, 160) AS latest
                FROM conversations c
                JOIN patients p ON p.id = c.patient_id
                LEFT JOIN users u ON u.id = c.assigned_to
                LEFT JOIN messages m ON m.id = c.last_message_id
               WHERE c.workspace_id = $1 AND c.status = 'open'
                 AND (NOT $3 OR c.assigned_to = $2)
               ORDER BY c.last_message_at DESC, c.id DESC
               LIMIT $6) l), '[]')::text AS latest";

/// The home page's inbox of `workspace` for `me`: colleagues see every open conversation,
/// guests only theirs (`only_mine`); `admin` adds the people waiting for approval. Each part
/// reads the list's indexes from the top and stops at its cap or page, so it costs much the
/// same in a workspace of a hundred conversations or a million.
pub fn inbox(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    me: UserId,
    only_mine: bool,
    admin: bool,
    shown: i64,
) -> QueryResult<Inbox> {
    use diesel::sql_types::{BigInt, Bool, Uuid};
    // Every home page runs it: kept prepared on each connection (`db::cached`).
    let rows: Vec<InboxRow> = crate::db::cached::sql(INBOX)
        .bind::<Uuid, _>(workspace.0)
        .bind::<Uuid, _>(me.0)
        .bind::<Bool, _>(only_mine)
        .bind::<Bool, _>(admin)
        .bind::<BigInt, _>(INBOX_CAP)
        .bind::<BigInt, _>(shown)
        .load(conn)?;
    let row = rows
        .into_iter()
        .next()
        .ok_or(diesel::result::Error::NotFound)?;
    let latest = serde_json::from_str(&row.latest)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    Ok(Inbox {
        assigned_to_me: row.assigned_to_me,
        unassigned: row.unassigned,
        waiting: row.waiting,
        latest,
    })
}
