//! Messages to patients and the conversations they gather in: sending one (the conversation,
//! the message and its outbox row in one transaction), assigning a conversation, marking it done.

use diesel::PgConnection;

use super::{Actor, Decision};
use crate::auth::permissions::{self, ConversationAccess};
use crate::db::models::conversations::{self, Conversation};
use crate::db::models::message_templates;
use crate::db::models::messages::{self, NewMessage};
use crate::db::models::patients::{self, Patient};
use crate::db::models::users::User;
use crate::db::models::workspace_members;
use crate::domain::{
    Channel, ConversationId, PatientId, TemplateId, Text, TextRules, UserId, WorkspaceId,
};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages::PatientMessage};

/// A text message with its signature fits in four SMS parts.
pub const SMS_MAX: usize = 612;
/// An email's message, before the signature.
pub const EMAIL_MAX: usize = 5000;
/// What a message's text may hold (its length depends on the channel: see `problems`).
const BODY: TextRules = TextRules::lines("The message", usize::MAX);

/// Why an assignment was refused (also for an assignee that is not a user id at all).
pub const NOT_ASSIGNABLE: &str = "Choose someone who is an approved member of this workspace";

/// A message as its sender typed it.
#[derive(Clone)]
pub struct Outgoing {
    pub patient: PatientId,
    /// `None`: neither text message nor email was chosen.
    pub channel: Option<Channel>,
    pub body: String,
    pub template: Option<TemplateId>,
}

/// The message as it would go (the template filled in for the patient, signed), and what
/// stops it going: each problem with the form field it concerns.
pub struct Draft {
    pub message: PatientMessage,
    pub template: Option<TemplateId>,
    pub problems: Vec<(&'static str, String)>,
}

/// A message on its way: the conversation it joined, and what to tell the sender.
pub struct Sent {
    pub conversation: ConversationId,
    pub flash: String,
}

/// `body` signed by its sender and the workspace, as the patient reads it.
pub fn sign(sender: &User, access: &ConversationAccess, body: String) -> PatientMessage {
    PatientMessage {
        body,
        sender: sender.full_name(),
        workspace: access.access.workspace.name.clone(),
    }
}

/// The message `outgoing` makes for this patient, and what is wrong with it. An empty body
/// with a template chosen is the template's.
pub fn draft(
    conn: &mut PgConnection,
    sender: &User,
    access: &ConversationAccess,
    patient: &Patient,
    outgoing: &Outgoing,
) -> AppResult<Draft> {
    let template = match outgoing.template {
        Some(id) => Some(message_templates::find_usable(
            conn,
            access.access.workspace.id,
            sender.id,
            access.shares(),
            id,
        )?),
        None => None,
    };
    let typed = match (&template, outgoing.body.trim()) {
        (Some(template), "") => template.body.clone(),
        (_, typed) => typed.to_string(),
    };
    let body = message_templates::fill(&typed, &patient.first_name, &patient.surname);
    let message = sign(sender, access, body);
    Ok(Draft {
        problems: problems(outgoing.channel, patient, &message),
        template: template.map(|t| t.id),
        message,
    })
}

/// Where a message by `channel` reaches the patient, if they gave that address.
fn recipient(channel: Channel, patient: &Patient) -> Option<&str> {
    match channel {
        Channel::Sms => patient.mobile.as_deref(),
        Channel::Email => patient.email.as_deref(),
    }
}

fn problems(
    channel: Option<Channel>,
    patient: &Patient,
    message: &PatientMessage,
) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    let unreachable = match channel {
        None => Some("Choose text message or email"),
        Some(channel) if recipient(channel, patient).is_some() => None,
        Some(Channel::Sms) => Some(
            "This patient has no mobile number. Send an email, or add their mobile number to their record",
        ),
        Some(Channel::Email) => Some(
            "This patient has no email address. Send a text message, or add their email address to their record",
        ),
    };
    if let Some(problem) = unreachable {
        problems.push(("channel", problem.to_string()));
    }
    let length = message.body.chars().count();
    if let Err(refused) = Text::parse(&message.body, BODY) {
        problems.push(("body", refused.0));
    } else if message.body.trim().is_empty() {
        problems.push(("body", "Enter a message, or choose a template".to_string()));
    } else if channel == Some(Channel::Sms) {
        let signed = length + 1 + message.signature().chars().count();
        if signed > SMS_MAX {
            problems.push((
                "body",
                format!(
                    "A text message can be at most {SMS_MAX} characters with your signature: remove {} characters, or send an email",
                    signed - SMS_MAX
                ),
            ));
        }
    } else if length > EMAIL_MAX {
        problems.push((
            "body",
            format!("The message must be {EMAIL_MAX} characters or fewer"),
        ));
    }
    problems
}

/// Sends the message: into the open conversation with the patient, or a new one. Refused
/// (with the first of the draft's problems) when it cannot go as typed.
pub fn send(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    outgoing: &Outgoing,
) -> AppResult<Decision<Sent>> {
    let sender = actor.user()?;
    let access = permissions::use_conversations(conn, sender, id)?;
    let patient = permissions::patient_for_messages(conn, &access, outgoing.patient)?;
    // Sends to one patient take turns, so they join one open conversation.
    let patient = patients::lock(conn, patient.id)?;
    let draft = draft(conn, sender, &access, &patient, outgoing)?;
    let to = outgoing
        .channel
        .and_then(|channel| Some((channel, recipient(channel, &patient)?)));
    let Some((channel, recipient)) = to.filter(|_| draft.problems.is_empty()) else {
        let first = draft
            .problems
            .into_iter()
            .next()
            .map(|(_, problem)| problem);
        return Ok(Decision::Refused(first.unwrap_or_default()));
    };
    let message = PatientMessage {
        body: draft.message.body.trim().to_string(),
        ..draft.message
    };
    let conversation = conversation_for(conn, &access, sender, &patient)?;
    let outbox_id = match channel {
        Channel::Sms => mail::enqueue_sms(conn, recipient, &message)?,
        Channel::Email => mail::enqueue(conn, recipient, &message)?,
    };
    let sent = messages::insert(
        conn,
        &NewMessage {
            conversation_id: conversation.id,
            workspace_id: id,
            sender_id: Some(sender.id),
            channel,
            recipient,
            body: &message.body,
            template_id: draft.template,
            outbox_id: Some(outbox_id),
        },
    )?;
    conversations::note_message(conn, &sent)?;
    let how = messages::channel_label(channel).to_lowercase();
    Ok(Decision::Done(Sent {
        conversation: conversation.id,
        flash: format!("Your {how} to {} is on its way.", patient.full_name()),
    }))
}

/// The open conversation with the patient, or a new one (assigned to an approved sender).
/// The caller holds the patient's lock.
fn conversation_for(
    conn: &mut PgConnection,
    access: &ConversationAccess,
    sender: &User,
    patient: &Patient,
) -> AppResult<Conversation> {
    let ws = access.access.workspace.id;
    Ok(
        match conversations::open_for_patient(conn, ws, patient.id)? {
            Some(open) => open,
            None => conversations::open(
                conn,
                ws,
                patient.id,
                sender.id,
                access.access.is_approved().then_some(sender.id),
            )?,
        },
    )
}

/// Assigns the conversation to an approved member (or unassigns it, with `None`); colleagues
/// only. Done says what happened.
pub fn assign(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    conversation: ConversationId,
    to: Option<UserId>,
) -> AppResult<Decision> {
    let user = actor.user()?;
    permissions::share_in_workspace(conn, user, id)?;
    let (_, found) = permissions::see_conversation(conn, user, id, conversation)?;
    let name = match to {
        None => None,
        Some(to) => {
            let member = workspace_members::find(conn, id, to)?;
            if !member.is_some_and(|m| m.is_approved()) {
                return Ok(Decision::refused(NOT_ASSIGNABLE));
            }
            conversations::names(conn, &[to])?.pop().map(|(_, n)| n)
        }
    };
    if !conversations::assign(conn, id, found.id, to)? {
        return Err(AppError::NotFound);
    }
    Ok(Decision::Done(match name {
        Some(name) => format!("Conversation assigned to {name}."),
        None => "Conversation unassigned.".to_string(),
    }))
}

/// Marks the conversation done (the next message to the patient starts a new one). Says
/// whether it was done already.
pub fn mark_done(
    conn: &mut PgConnection,
    actor: &Actor,
    id: WorkspaceId,
    conversation: ConversationId,
) -> AppResult<String> {
    let user = actor.user()?;
    let (_, found) = permissions::see_conversation(conn, user, id, conversation)?;
    Ok(if conversations::mark_done(conn, id, found.id, user.id)? {
        "Conversation marked as done. The next message to this patient starts a new one."
    } else {
        "This conversation was already done."
    }
    .to_string())
}
