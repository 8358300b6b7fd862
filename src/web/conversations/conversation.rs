//! One conversation: `GET /workspaces/{id}/conversations/{conversation_id}` (the patient, every
//! message with its sender, channel and delivery, a reply form), and
//! `POST .../assign` (user_id: an approved member, or empty to unassign; colleagues only) and
//! `POST .../done`. Each finds the conversation through the viewer's own WHERE clause, so an id
//! from another workspace, or one the viewer may not see, is 404.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::permissions::{self, ConversationAccess};
use crate::db::models::conversations::{self, Conversation};
use crate::db::models::message_templates::{self, MessageTemplate};
use crate::db::models::messages::{self, Shown};
use crate::db::models::patients::{self, Patient};
use crate::db::models::users::User;
use crate::db::models::workspace_members;
use crate::db::models::workspaces::Workspace;
use crate::domain::{Channel, ConversationId, UserId, WorkspaceId, WorkspaceRole};
use crate::error::AppResult;
use crate::services::conversations::{self as service, NOT_ASSIGNABLE, SMS_MAX};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::conversations::compose::MessageForm;
use crate::web::conversations::listing::Colleague;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

/// A conversation shows at most this many messages.
const SHOWN: i64 = 500;

/// "Assign to" lists at most this many colleagues; past that, a search finds the others.
const ASSIGNABLE_SHOWN: i64 = 50;

#[derive(Template)]
#[template(path = "conversations/conversation.html")]
struct ConversationPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    conversation: Conversation,
    patient: Patient,
    messages: Vec<Shown>,
    assigned: String,
    /// Who it may be assigned to (colleagues only see this).
    colleagues: Vec<Colleague>,
    /// The search that narrowed `colleagues`, and whether more than were listed matched.
    colleague: String,
    more_colleagues: bool,
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

/// What the page's queries found, with the viewer's own words ("You", "(you)") in place.
struct Found {
    access: ConversationAccess,
    conversation: Conversation,
    patient: Patient,
    shown: Vec<Shown>,
    assigned: String,
    colleagues: Vec<Colleague>,
    more_colleagues: bool,
    templates: Vec<MessageTemplate>,
    signature: String,
}

fn load(
    conn: &mut PgConnection,
    me: &User,
    id: WorkspaceId,
    conversation: ConversationId,
    colleague: &str,
) -> AppResult<Found> {
    let (access, conversation) = permissions::see_conversation(conn, me, id, conversation)?;
    let patient = patients::find(conn, conversation.patient_id)?;
    let shown = messages::in_conversation(conn, id, conversation.id, SHOWN)?;
    let (colleagues, more_colleagues) = if access.shares() {
        let always: Vec<UserId> = std::iter::once(me.id)
            .chain(conversation.assigned_to)
            .collect();
        let (found, more) =
            workspace_members::assignable(conn, id, colleague, &always, ASSIGNABLE_SHOWN)?;
        let listed = found
            .into_iter()
            .map(|(m, u)| Colleague {
                id: u.id.to_string(),
                name: if u.id == me.id {
                    format!("{} (you)", u.full_name())
                } else {
                    u.full_name()
                },
                guest: m.role == WorkspaceRole::Guest,
            })
            .collect();
        (listed, more)
    } else {
        (Vec::new(), false)
    };
    let assigned = match conversation.assigned_to {
        None => "Unassigned".to_string(),
        Some(who) if who == me.id => "You".to_string(),
        Some(who) => conversations::names(conn, &[who])?
            .pop()
            .map(|(_, n)| n)
            .unwrap_or_default(),
    };
    Ok(Found {
        templates: message_templates::usable(conn, id, me.id, access.shares())?,
        signature: service::sign(me, &access, String::new()).signature(),
        access,
        conversation,
        patient,
        shown,
        assigned,
        colleagues,
        more_colleagues,
    })
}

async fn render_page(
    signed: &Signed,
    (id, conversation): (WorkspaceId, ConversationId),
    errors: FormErrors,
    colleague: String,
) -> AppResult<HttpResponse> {
    let search = colleague.clone();
    let page = signed
        .page(move |conn, frame| load(conn, &frame.user, id, conversation, &search))
        .await?;
    let found = page.data;
    let last_channel = found
        .shown
        .last()
        .map_or(Channel::Sms, |m| m.message.channel);
    crate::web::render_with(
        errors.status(),
        &ConversationPage {
            layout: page.layout,
            errors,
            signature: found.signature,
            shares: found.access.shares(),
            workspace: found.access.access.workspace,
            form: MessageForm {
                patient_id: found.patient.id.to_string(),
                channel: last_channel.code().to_string(),
                ..MessageForm::default()
            },
            conversation: found.conversation,
            patient: found.patient,
            messages: found.shown,
            assigned: found.assigned,
            colleagues: found.colleagues,
            colleague,
            more_colleagues: found.more_colleagues,
            templates: found.templates,
            sms_max: SMS_MAX,
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    /// Part of a colleague's name: "Assign to" lists those it matches.
    colleague: String,
}

pub async fn conversation_page(
    signed: Signed,
    path: web::Path<(WorkspaceId, ConversationId)>,
    query: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let colleague = query.into_inner().colleague;
    render_page(&signed, path.into_inner(), FormErrors::default(), colleague).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AssignForm {
    user_id: String,
}

impl AssignForm {
    /// The assignee (`None` to unassign); `Err` for something that is no one's id.
    fn parse(&self) -> Result<Option<UserId>, ()> {
        match self.user_id.trim() {
            "" => Ok(None),
            raw => raw.parse().map(Some).map_err(|_| ()),
        }
    }
}

pub async fn assign(
    signed: Signed,
    path: web::Path<(WorkspaceId, ConversationId)>,
    form: web::Form<AssignForm>,
) -> AppResult<HttpResponse> {
    let (id, conversation) = path.into_inner();
    let decision = match form.parse() {
        Ok(to) => {
            let ip = signed.ip.clone();
            signed
                .decide(move |conn, user| {
                    service::assign(conn, &Actor::person(user, &ip), id, conversation, to)
                })
                .await?
        }
        Err(()) => Decision::refused(NOT_ASSIGNABLE),
    };
    match decision {
        Decision::Done(message) => signed.done(
            &message,
            &format!("/workspaces/{id}/conversations/{conversation}"),
        ),
        Decision::Refused(reason) => {
            let mut errors = FormErrors::default();
            errors.add("user_id", reason);
            render_page(&signed, (id, conversation), errors, String::new()).await
        }
    }
}

pub async fn done(
    signed: Signed,
    path: web::Path<(WorkspaceId, ConversationId)>,
) -> AppResult<HttpResponse> {
    let (id, conversation) = path.into_inner();
    let ip = signed.ip.clone();
    let message = signed
        .change(move |conn, user| {
            service::mark_done(conn, &Actor::person(user, &ip), id, conversation)
        })
        .await?;
    signed.done(&message, &format!("/workspaces/{id}/conversations"))
}
