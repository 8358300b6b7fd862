//! Message templates: `GET /workspaces/{id}/templates` (yours, and the workspace's shared ones
//! for approved colleagues), `POST /workspaces/{id}/templates` (name, body, `shared=on`) and
//! `POST .../templates/{template_id}/delete`.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::permissions;
use crate::auth::TypedSession;
use crate::db::models::message_templates::{self, MessageTemplate, NewMessageTemplate};
use crate::db::models::workspaces::Workspace;
use crate::domain::{TemplateId, WorkspaceId};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
use crate::web::layout::Layout;

/// The longest message body (an email's); a text message is shorter still when sent.
pub const MAX_BODY: usize = 5000;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TemplateForm {
    name: String,
    body: String,
    /// "on" to share it with the workspace's approved colleagues.
    shared: String,
}

#[derive(Template)]
#[template(path = "conversations/templates.html")]
struct TemplatesPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    tab: &'static str,
    shares: bool,
    templates: Vec<MessageTemplate>,
    form: TemplateForm,
}

async fn render_page(
    session: &TypedSession,
    state: &AppState,
    current: &CurrentUser,
    id: WorkspaceId,
    errors: FormErrors,
    form: TemplateForm,
) -> AppResult<HttpResponse> {
    let user = current.user.clone();
    let (access, templates) = crate::db::run(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        let templates = message_templates::usable(conn, id, user.id, access.shares())?;
        Ok((access, templates))
    })
    .await?;
    let status = errors.status();
    crate::web::render_with(
        status,
        &TemplatesPage {
            layout: Layout::signed_in(session, &current.user, &current.nav)?,
            errors,
            shares: access.shares(),
            workspace: access.access.workspace,
            tab: "templates",
            templates,
            form,
        },
    )
}

pub async fn templates_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
) -> AppResult<HttpResponse> {
    render_page(
        &session,
        &state,
        &current,
        id.into_inner(),
        FormErrors::default(),
        TemplateForm::default(),
    )
    .await
}

pub async fn add_template(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    id: web::Path<WorkspaceId>,
    form: web::Form<TemplateForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    let (name, body) = (form.name.trim().to_string(), form.body.trim().to_string());
    if name.is_empty() {
        errors.add("name", "Enter a name for the template");
    } else if name.chars().count() > 100 {
        errors.add("name", "The name must be 100 characters or fewer");
    }
    if body.is_empty() {
        errors.add("body", "Enter the message");
    } else if body.chars().count() > MAX_BODY {
        errors.add(
            "body",
            format!("The message must be {MAX_BODY} characters or fewer"),
        );
    }
    if !errors.is_empty() {
        return render_page(&session, &state, &current, id, errors, form).await;
    }
    let (user, shared) = (current.user.clone(), form.shared == "on");
    let created = crate::db::transaction(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        if shared && !access.shares() {
            return Ok(None);
        }
        let template = message_templates::insert(
            conn,
            &NewMessageTemplate {
                id: TemplateId::new(),
                workspace_id: shared.then_some(id),
                owner_id: (!shared).then_some(user.id),
                name: &name,
                body: &body,
                created_by: Some(user.id),
            },
        )?;
        Ok(Some(template))
    })
    .await?;
    match created {
        Some(template) => {
            session.set_flash(&format!(
                "Template “{}” saved{}.",
                template.name,
                if template.is_shared() {
                    " and shared with the workspace"
                } else {
                    ""
                }
            ))?;
            Ok(crate::web::see_other(&format!(
                "/workspaces/{id}/templates"
            )))
        }
        None => {
            errors.add(
                "shared",
                "Only approved colleagues can share templates with the workspace",
            );
            render_page(&session, &state, &current, id, errors, form).await
        }
    }
}

pub async fn delete_template(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    path: web::Path<(WorkspaceId, TemplateId)>,
) -> AppResult<HttpResponse> {
    let (id, template) = path.into_inner();
    let user = current.user.clone();
    crate::db::transaction(&state.pool, move |conn| {
        let access = permissions::use_conversations(conn, &user, id)?;
        if !message_templates::delete_usable(conn, id, user.id, access.shares(), template)? {
            return Err(AppError::NotFound);
        }
        Ok(())
    })
    .await?;
    session.set_flash("Template deleted.")?;
    Ok(crate::web::see_other(&format!(
        "/workspaces/{id}/templates"
    )))
}
