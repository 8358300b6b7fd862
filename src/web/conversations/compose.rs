//! Sending a message to a patient from the current workspace: `GET /workspaces/{id}/messages/new
//! ?patient_id=` (the form) and `POST /workspaces/{id}/messages` (patient_id, channel `sms` or
//! `email`, body, optional template_id). The message, its conversation and its outbox row are
//! written in one transaction; the worker delivers it like all other mail.

use crate::domain::Channel;
use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::permissions::{self, ConversationAccess};
use crate::auth::TypedSession;
use crate::db::models::conversations;
use crate::db::models::message_templates::{self, MessageTemplate};
use crate::db::models::messages::{self, NewMessage};
use crate::db::models::patients::{self, Patient};
use crate::db::models::users::User;
use crate::db::models::workspaces::Workspace;
use crate::domain::{ConversationId, PatientId, TemplateId, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages::PatientMessage};
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

/// A text message with its signature fits in four Channel::Sms parts.
pub const SMS_MAX: usize = 612;
/// An email's message, before the signature.
pub const EMAIL_MAX: usize = 5000;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct MessageForm {
    pub patient_id: String,
    pub channel: String,
    pub body: String,
    pub template_id: String,
}

#[derive(Deserialize)]
pub struct ComposeQuery {
    patient_id: PatientId,
}

#[derive(Template)]
#[template(path = "conversations/compose.html")]
struct ComposePage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    tab: &'static str,
    patient: Patient,
    templates: Vec<MessageTemplate>,
    form: MessageForm,
    signature: String,
    sms_max: usize,
}

async fn render_form(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    (id, patient): (WorkspaceId, PatientId),
    errors: FormErrors,
    form: Option<MessageForm>,
) -> AppResult<HttpResponse> {
    let user = current.user.clone();
    let (access, patient, templates) = crate::db::run(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        let patient = permissions::patient_for_messages(conn, &access, patient)?;
        let templates = message_templates::usable(conn, id, user.id, access.shares())?;
        Ok((access, patient, templates))
    })
    .await?;
    let form = form.unwrap_or_else(|| MessageForm {
        patient_id: patient.id.to_string(),
        channel: if patient.mobile.is_some() {
            Channel::Sms
        } else {
            Channel::Email
        }
        .code()
        .into(),
        ..MessageForm::default()
    });
    let status = errors.status();
    let signature = signed(&current.user, &access.access.workspace, String::new()).signature();
    crate::web::render_with(
        status,
        &ComposePage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            errors,
            workspace: access.access.workspace,
            tab: "conversations",
            patient,
            templates,
            form,
            signature,
            sms_max: SMS_MAX,
        },
    )
}

fn signed(sender: &User, workspace: &Workspace, body: String) -> PatientMessage {
    PatientMessage {
        body,
        sender: sender.full_name(),
        workspace: workspace.name.clone(),
    }
}

pub async fn compose_form(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
    query: web::Query<ComposeQuery>,
) -> AppResult<HttpResponse> {
    render_form(
        &session,
        &state,
        &current,
        (id.into_inner(), query.patient_id),
        FormErrors::default(),
        None,
    )
    .await
}

/// Checks the message against the patient and the channel; the channel and recipient when it
/// passes.
fn check(
    form: &MessageForm,
    patient: &Patient,
    message: &PatientMessage,
    errors: &mut FormErrors,
) -> Option<(Channel, String)> {
    let channel = Channel::parse(&form.channel).ok();
    let recipient = match channel {
        Some(Channel::Sms) => match &patient.mobile {
            Some(mobile) => Some(mobile.clone()),
            None => {
                errors.add(
                    "channel",
                    "This patient has no mobile number. Send an email, or add their mobile number to their record",
                );
                None
            }
        },
        Some(Channel::Email) => match &patient.email {
            Some(email) => Some(email.clone()),
            None => {
                errors.add(
                    "channel",
                    "This patient has no email address. Send a text message, or add their email address to their record",
                );
                None
            }
        },
        None => {
            errors.add("channel", "Choose text message or email");
            None
        }
    };
    let length = message.body.chars().count();
    if message.body.trim().is_empty() {
        errors.add("body", "Enter a message, or choose a template");
    } else if channel == Some(Channel::Sms) {
        let signed = length + 1 + message.signature().chars().count();
        if signed > SMS_MAX {
            errors.add(
                "body",
                format!(
                    "A text message can be at most {SMS_MAX} characters with your signature: remove {} characters, or send an email",
                    signed - SMS_MAX
                ),
            );
        }
    } else if length > EMAIL_MAX {
        errors.add(
            "body",
            format!("The message must be {EMAIL_MAX} characters or fewer"),
        );
    }
    Some((channel?, recipient?))
}

/// Sends inside the transaction: the open conversation with the patient (or a new one,
/// assigned to an approved sender), the message, its outbox row.
fn send_in(
    conn: &mut PgConnection,
    access: &ConversationAccess,
    sender: &User,
    patient: &Patient,
    (channel, recipient): (Channel, &str),
    message: &PatientMessage,
    template: Option<TemplateId>,
) -> AppResult<ConversationId> {
    let ws = access.access.workspace.id;
    let conversation = match conversations::open_for_patient(conn, ws, patient.id)? {
        Some(open) => open,
        None => conversations::open(
            conn,
            ws,
            patient.id,
            sender.id,
            access.access.is_approved().then_some(sender.id),
        )?,
    };
    let outbox_id = if channel == Channel::Sms {
        mail::enqueue_sms(conn, recipient, message)?
    } else {
        mail::enqueue(conn, recipient, message)?
    };
    let sent = messages::insert(
        conn,
        &NewMessage {
            conversation_id: conversation.id,
            workspace_id: ws,
            sender_id: Some(sender.id),
            channel,
            recipient,
            body: &message.body,
            template_id: template,
            outbox_id: Some(outbox_id),
        },
    )?;
    conversations::note_message(conn, &sent)?;
    Ok(conversation.id)
}

pub async fn send(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
    form: web::Form<MessageForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let patient_id: PatientId = form
        .patient_id
        .trim()
        .parse()
        .map_err(|_| AppError::NotFound)?;
    let template_id: Option<TemplateId> = match form.template_id.trim() {
        "" => None,
        raw => Some(raw.parse().map_err(|_| AppError::NotFound)?),
    };
    let (user, submitted) = (current.user.clone(), form.clone());
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        let patient = permissions::patient_for_messages(conn, &access, patient_id)?;
        // Sends to one patient take turns, so they join one open conversation.
        let patient = patients::lock(conn, patient.id)?;
        let template = match template_id {
            Some(t) => Some(message_templates::find_usable(
                conn,
                id,
                user.id,
                access.shares(),
                t,
            )?),
            None => None,
        };
        let typed = match (&template, submitted.body.trim()) {
            (Some(template), "") => template.body.clone(),
            (_, typed) => typed.to_string(),
        };
        let body = message_templates::fill(&typed, &patient.first_name, &patient.surname);
        let mut message = signed(&user, &access.access.workspace, body);
        let mut errors = FormErrors::default();
        let recipient = check(&submitted, &patient, &message, &mut errors);
        let Some((channel, recipient)) = recipient.filter(|_| errors.is_empty()) else {
            return Ok(Err(errors));
        };
        message.body = message.body.trim().to_string();
        let conversation = send_in(
            conn,
            &access,
            &user,
            &patient,
            (channel, &recipient),
            &message,
            template.map(|t| t.id),
        )?;
        let how = messages::channel_label(channel).to_lowercase();
        Ok(Ok((
            conversation,
            format!("Your {how} to {} is on its way.", patient.full_name()),
        )))
    })
    .await?;
    match outcome {
        Ok((conversation, flash)) => {
            session.set_flash(&flash)?;
            Ok(crate::web::see_other(&format!(
                "/workspaces/{id}/conversations/{conversation}"
            )))
        }
        Err(errors) => {
            render_form(
                &session,
                &state,
                &current,
                (id, patient_id),
                errors,
                Some(form),
            )
            .await
        }
    }
}
