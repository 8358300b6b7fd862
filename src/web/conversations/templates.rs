//! Message templates: `GET /workspaces/{id}/templates` (yours, and the workspace's shared ones
//! for approved colleagues), `POST /workspaces/{id}/templates` (name, body, `shared=on`) and
//! `POST .../templates/{template_id}/delete`. The decisions are in `services::message_templates`.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::message_templates::{self, MessageTemplate};
use crate::db::models::workspaces::Workspace;
use crate::domain::{TemplateId, Text, TextRules, WorkspaceId};
use crate::error::AppResult;
// A template is as long as an email may be; a text message is shorter still when sent.
use crate::services::conversations::EMAIL_MAX;
use crate::services::message_templates::NewTemplate;
use crate::services::{self, Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

const NAME: TextRules = TextRules::line("The name", 100);
const BODY: TextRules = TextRules::lines("The message", EMAIL_MAX);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TemplateForm {
    name: String,
    body: String,
    /// "on" to share it with the workspace's approved colleagues.
    shared: String,
}

impl TemplateForm {
    /// The form's own rules; who may share is the service's.
    fn parse(&self, errors: &mut FormErrors) -> Option<NewTemplate> {
        let name = errors.check(
            "name",
            Text::required(&self.name, NAME, "Enter a name for the template"),
        );
        let body = errors.check(
            "body",
            Text::required(&self.body, BODY, "Enter the message"),
        );
        Some(NewTemplate {
            name: name?.into_string(),
            body: body?.into_string(),
            shared: self.shared == "on",
        })
    }
}

#[derive(Template)]
#[template(path = "conversations/templates.html")]
struct TemplatesPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    shares: bool,
    templates: Vec<MessageTemplate>,
    form: TemplateForm,
}

async fn render_page(
    signed: &Signed,
    id: WorkspaceId,
    errors: FormErrors,
    form: TemplateForm,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let access = permissions::use_conversations(conn, &frame.user, id)?;
            let templates = message_templates::usable(conn, id, frame.user.id, access.shares())?;
            Ok((access, templates))
        })
        .await?;
    let (access, templates) = page.data;
    crate::web::render_with(
        errors.status(),
        &TemplatesPage {
            layout: page.layout,
            errors,
            shares: access.shares(),
            workspace: access.access.workspace,
            templates,
            form,
        },
    )
}

pub async fn templates_page(signed: Signed, id: web::Path<WorkspaceId>) -> AppResult<HttpResponse> {
    render_page(
        &signed,
        id.into_inner(),
        FormErrors::default(),
        TemplateForm::default(),
    )
    .await
}

pub async fn add_template(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    form: web::Form<TemplateForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(template) = form.parse(&mut errors) {
        let ip = signed.ip.clone();
        let decision = signed
            .decide(move |conn, user| {
                services::message_templates::add(conn, &Actor::person(user, &ip), id, &template)
            })
            .await?;
        match decision {
            Decision::Done(message) => {
                return signed.done(&message, &format!("/workspaces/{id}/templates"))
            }
            // The only refusal: sharing, by someone who may not.
            Decision::Refused(reason) => errors.add("shared", reason),
        }
    }
    render_page(&signed, id, errors, form).await
}

pub async fn delete_template(
    signed: Signed,
    path: web::Path<(WorkspaceId, TemplateId)>,
) -> AppResult<HttpResponse> {
    let (id, template) = path.into_inner();
    let ip = signed.ip.clone();
    signed
        .change(move |conn, user| {
            services::message_templates::delete(conn, &Actor::person(user, &ip), id, template)
        })
        .await?;
    signed.done("Template deleted.", &format!("/workspaces/{id}/templates"))
}
