//! One conversation: `GET /workspaces/{id}/conversations/{conversation_id}` (the patient, every
//! message with its sender, channel and delivery, a reply form), and
//! `POST .../assign` (user_id: an approved member, or empty to unassign; colleagues only) and
//! `POST .../done`. Each finds the conversation through the viewer's own WHERE clause, so an id
//! from another workspace, or one the viewer may not see, is 404.

use crate::domain::{Channel, WorkspaceRole};
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::permissions;
use crate::auth::TypedSession;
use crate::db::models::conversations::{self, Conversation};
use crate::db::models::message_templates::{self, MessageTemplate};
use crate::db::models::messages::{self, Shown};
use crate::db::models::patients::{self, Patient};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::Workspace;
use crate::domain::{ConversationId, UserId, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::conversations::compose::{MessageForm, SMS_MAX};
use crate::web::conversations::listing::Colleague;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

/// A conversation shows at most this many messages.
const SHOWN: i64 = 500;

#[derive(Template)]
#[template(path = "conversations/conversation.html")]
struct ConversationPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    tab: &'static str,
    conversation: Conversation,
    patient: Patient,
    messages: Vec<Shown>,
    assigned: String,
    /// Who it may be assigned to (colleagues only see this).
    colleagues: Vec<Colleague>,
    shares: bool,
    /// The reply form.
    templates: Vec<MessageTemplate>,
    form: MessageForm,
    signature: String,
    sms_max: usize,
}

impl ConversationPage {
    fn when(&self, message: &Shown) -> String {
        super::when(message.message.created_at)
    }

    fn is_assigned(&self, user: &str) -> bool {
        self.conversation
            .assigned_to
            .is_some_and(|u| u.to_string() == user)
    }
}

async fn render_page(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    (id, conversation): (WorkspaceId, ConversationId),
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    let user = current.user.clone();
    let loaded = crate::db::run(&state.pool, move |conn| {
        let (access, conversation) = permissions::see_conversation(conn, &user, id, conversation)?;
        let patient = patients::find(conn, conversation.patient_id)?;
        let shown = messages::in_conversation(conn, id, conversation.id, SHOWN)?;
        let members = if access.shares() {
            workspace_members::with_users(conn, id)?
                .into_iter()
                .filter(|(m, _)| m.is_approved())
                .collect()
        } else {
            Vec::new()
        };
        let names = conversations::names(
            conn,
            &conversation.assigned_to.into_iter().collect::<Vec<_>>(),
        )?;
        let templates = message_templates::usable(conn, id, user.id, access.shares())?;
        Ok((
            access,
            conversation,
            patient,
            shown,
            members,
            names,
            templates,
        ))
    })
    .await?;
    let (access, conversation, patient, shown, members, names, templates) = loaded;
    let me = current.id();
    let assigned = match conversation.assigned_to {
        None => "Unassigned".to_string(),
        Some(who) if who == me => "You".to_string(),
        Some(_) => names.first().map(|(_, n)| n.clone()).unwrap_or_default(),
    };
    let status = errors.status();
    let last_channel = shown
        .last()
        .map_or(Channel::Sms.to_string(), |m| m.message.channel.to_string());
    crate::web::render_with(
        status,
        &ConversationPage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            errors,
            signature: format!(
                "– {}, {}",
                current.user.full_name(),
                access.access.workspace.name
            ),
            shares: access.shares(),
            workspace: access.access.workspace,
            tab: "conversations",
            form: MessageForm {
                patient_id: patient.id.to_string(),
                channel: last_channel,
                ..MessageForm::default()
            },
            conversation,
            patient,
            messages: shown,
            assigned,
            colleagues: members
                .iter()
                .map(|(m, u)| Colleague {
                    id: u.id.to_string(),
                    name: if u.id == me {
                        format!("{} (you)", u.full_name())
                    } else {
                        u.full_name()
                    },
                    guest: m.role == WorkspaceRole::Guest,
                })
                .collect(),
            templates,
            sms_max: SMS_MAX,
        },
    )
}

pub async fn conversation_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, ConversationId)>,
) -> AppResult<HttpResponse> {
    render_page(
        &session,
        &state,
        &current,
        path.into_inner(),
        FormErrors::default(),
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AssignForm {
    user_id: String,
}

pub async fn assign(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, ConversationId)>,
    form: web::Form<AssignForm>,
) -> AppResult<HttpResponse> {
    let (id, conversation) = path.into_inner();
    let to = match form.user_id.trim() {
        "" => None,
        raw => match raw.parse::<UserId>() {
            Ok(to) => Some(to),
            Err(_) => return refuse_assignee(&session, &state, &current, (id, conversation)).await,
        },
    };
    let user = current.user.clone();
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        permissions::share_in_workspace(conn, &user, id)?;
        let (_, found) = permissions::see_conversation(conn, &user, id, conversation)?;
        let name = match to {
            None => None,
            Some(to) => {
                let member = workspace_members::find(conn, id, to)?;
                if !member.is_some_and(|m| m.is_approved()) {
                    return Ok(None);
                }
                conversations::names(conn, &[to])?.pop().map(|(_, n)| n)
            }
        };
        if !conversations::assign(conn, id, found.id, to)? {
            return Err(AppError::NotFound);
        }
        Ok(Some(name))
    })
    .await?;
    match outcome {
        Some(name) => {
            session.set_flash(&match name {
                Some(name) => format!("Conversation assigned to {name}."),
                None => "Conversation unassigned.".to_string(),
            })?;
            Ok(crate::web::see_other(&format!(
                "/workspaces/{id}/conversations/{conversation}"
            )))
        }
        None => refuse_assignee(&session, &state, &current, (id, conversation)).await,
    }
}

async fn refuse_assignee(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    path: (WorkspaceId, ConversationId),
) -> AppResult<HttpResponse> {
    let mut errors = FormErrors::default();
    errors.add(
        "user_id",
        "Choose someone who is an approved member of this workspace",
    );
    render_page(session, state, current, path, errors).await
}

pub async fn done(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, ConversationId)>,
) -> AppResult<HttpResponse> {
    let (id, conversation) = path.into_inner();
    let user = current.user.clone();
    let closed = crate::db::transaction(&state.pool, move |conn| {
        let (_, found) = permissions::see_conversation(conn, &user, id, conversation)?;
        Ok(conversations::mark_done(conn, id, found.id, user.id)?)
    })
    .await?;
    session.set_flash(if closed {
        "Conversation marked as done. The next message to this patient starts a new one."
    } else {
        "This conversation was already done."
    })?;
    Ok(crate::web::see_other(&format!(
        "/workspaces/{id}/conversations"
    )))
}
