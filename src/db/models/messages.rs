//! The `messages` table: each message sent to a patient in a conversation, with the outbox row
//! that carries it (for its delivery status).

use crate::domain::Channel;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::models::outbox::OutboxMessage;
use crate::db::schema::{messages, outbox, users};
use crate::domain::{ConversationId, TemplateId, UserId, WorkspaceId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = messages)]
pub struct Message {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub sender_id: Option<UserId>,
    pub channel: Channel,
    pub recipient: String,
    pub body: String,
    pub template_id: Option<TemplateId>,
    pub outbox_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Message {
    pub fn channel_label(&self) -> &'static str {
        channel_label(self.channel)
    }
}

pub fn channel_label(channel: Channel) -> &'static str {
    if channel == Channel::Sms {
        "Text message"
    } else {
        "Email"
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = messages)]
pub struct NewMessage<'a> {
    pub conversation_id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub sender_id: Option<UserId>,
    pub channel: Channel,
    pub recipient: &'a str,
    pub body: &'a str,
    pub template_id: Option<TemplateId>,
    pub outbox_id: Option<i64>,
}

/// A message with who sent it and how its delivery went.
#[derive(Debug, Clone)]
pub struct Shown {
    pub message: Message,
    pub sender: Option<String>,
    pub delivery: &'static str,
}

pub fn insert(conn: &mut PgConnection, new: &NewMessage) -> QueryResult<Message> {
    diesel::insert_into(messages::table)
        .values(new)
        .returning(Message::as_returning())
        .get_result(conn)
}

type Row = (Message, Option<(String, String)>, Option<OutboxMessage>);

fn shown(rows: Vec<Row>) -> Vec<Shown> {
    rows.into_iter()
        .map(|(message, sender, outbox)| Shown {
            message,
            sender: sender.map(|(first, last)| format!("{first} {last}")),
            delivery: outbox.map_or("Delivered", |o| o.delivery_status()),
        })
        .collect()
}

/// A conversation's messages, oldest first (the caller has checked it may see the conversation).
pub fn in_conversation(
    conn: &mut PgConnection,
    workspace: WorkspaceId,
    conversation: ConversationId,
    limit: i64,
) -> QueryResult<Vec<Shown>> {
    let rows = messages::table
        .left_join(users::table.on(messages::sender_id.eq(users::id.nullable())))
        .left_join(outbox::table)
        .filter(messages::workspace_id.eq(workspace))
        .filter(messages::conversation_id.eq(conversation))
        .order(messages::id)
        .limit(limit)
        .select((
            Message::as_select(),
            (users::first_name, users::surname).nullable(),
            Option::<OutboxMessage>::as_select(),
        ))
        .load(conn)?;
    Ok(shown(rows))
}

/// These messages (by id), each with its sender and delivery.
pub fn by_ids(conn: &mut PgConnection, ids: &[i64]) -> QueryResult<Vec<Shown>> {
    let rows = messages::table
        .left_join(users::table.on(messages::sender_id.eq(users::id.nullable())))
        .left_join(outbox::table)
        .filter(messages::id.eq_any(ids))
        .select((
            Message::as_select(),
            (users::first_name, users::surname).nullable(),
            Option::<OutboxMessage>::as_select(),
        ))
        .load(conn)?;
    Ok(shown(rows))
}
