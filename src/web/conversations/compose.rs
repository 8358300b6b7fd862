//! Sending a message to a patient from the current workspace: `GET /workspaces/{id}/messages/new
//! ?patient_id=` (the form) and `POST /workspaces/{id}/messages` (patient_id, channel `sms` or
//! `email`, body, optional template_id). The sending is `services::conversations::send`; the
//! worker delivers it like all other mail.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::message_templates::{self, MessageTemplate};
use crate::db::models::patients::Patient;
use crate::db::models::workspaces::Workspace;
use crate::domain::{Channel, PatientId, TemplateId, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::services::conversations::{self, Outgoing, SMS_MAX};
use crate::services::{Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct MessageForm {
    pub patient_id: String,
    pub channel: String,
    pub body: String,
    pub template_id: String,
}

impl MessageForm {
    /// The message as typed; ids that are not ids name nothing (404).
    fn parse(&self) -> AppResult<Outgoing> {
        Ok(Outgoing {
            patient: self
                .patient_id
                .trim()
                .parse()
                .map_err(|_| AppError::NotFound)?,
            channel: Channel::parse(&self.channel).ok(),
            body: self.body.clone(),
            template: match self.template_id.trim() {
                "" => None,
                raw => Some(raw.parse::<TemplateId>().map_err(|_| AppError::NotFound)?),
            },
        })
    }
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
    patient: Patient,
    templates: Vec<MessageTemplate>,
    form: MessageForm,
    signature: String,
    sms_max: usize,
}

/// The form, empty or as typed; as typed, with what stops it going beside each field.
async fn render_form(
    signed: &Signed,
    (id, patient): (WorkspaceId, PatientId),
    typed: Option<(MessageForm, Outgoing)>,
) -> AppResult<HttpResponse> {
    let (form, outgoing) = typed.unzip();
    let page = signed
        .page(move |conn, frame| {
            let access = permissions::use_conversations(conn, &frame.user, id)?;
            let patient = permissions::patient_for_messages(conn, &access, patient)?;
            let templates = message_templates::usable(conn, id, frame.user.id, access.shares())?;
            let problems = match &outgoing {
                Some(o) => conversations::draft(conn, &frame.user, &access, &patient, o)?.problems,
                None => Vec::new(),
            };
            let signature = conversations::sign(&frame.user, &access, String::new()).signature();
            Ok((access, patient, templates, problems, signature))
        })
        .await?;
    let (access, patient, templates, problems, signature) = page.data;
    let mut errors = FormErrors::default();
    for (field, problem) in problems {
        errors.add(field, problem);
    }
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
    crate::web::render_with(
        errors.status(),
        &ComposePage {
            layout: page.layout,
            errors,
            workspace: access.access.workspace,
            patient,
            templates,
            form,
            signature,
            sms_max: SMS_MAX,
        },
    )
}

pub async fn compose_form(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    query: web::Query<ComposeQuery>,
) -> AppResult<HttpResponse> {
    render_form(&signed, (id.into_inner(), query.patient_id), None).await
}

pub async fn send(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    form: web::Form<MessageForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let outgoing = form.parse()?;
    let (ip, sending) = (signed.ip.clone(), outgoing.clone());
    let decision = signed
        .decide(move |conn, user| {
            conversations::send(conn, &Actor::person(user, &ip), id, &sending)
        })
        .await?;
    match decision {
        Decision::Done(sent) => signed.done(
            &sent.flash,
            &format!("/workspaces/{id}/conversations/{}", sent.conversation),
        ),
        // The refusal names the first problem; the form shows each beside its field, from
        // the same rules.
        Decision::Refused(_) => {
            render_form(&signed, (id, outgoing.patient), Some((form, outgoing))).await
        }
    }
}
