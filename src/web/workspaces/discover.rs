//! `GET /organisations/{org_id}/workspaces`: the organisation's workspaces with specialty,
//! member count and your status, example workspaces (one per specialty with none yet), and the
//! form to create one. `POST` creates; `POST .../examples/join` creates an example's workspace
//! with the joiner as its admin.

use actix_web::{web, HttpResponse};
use askama::Template;
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::organisations::Organisation;
use crate::db::models::specialties::{self, Specialty};
use crate::db::models::users::User;
use crate::db::models::workspace_members;
use crate::db::models::workspaces;
use crate::domain::{DomainError, OrganisationId, Text, WorkspaceId, WorkspaceName};
use crate::error::{AppError, AppResult};
use crate::services::workspaces::{self as workspace_service, NewDetails};
use crate::services::{Actor, Decision};
use crate::web::context::{Page, Signed};
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CreateForm {
    name: String,
    specialty: String,
    description: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ExampleForm {
    specialty: String,
}

/// A row of the discovery table.
struct Row {
    id: WorkspaceId,
    name: String,
    specialty: String,
    members: i64,
    /// "Join", "Pending" or "Member"
    status: &'static str,
}

#[derive(Template)]
#[template(path = "workspaces/discover.html")]
struct DiscoverPage {
    layout: Layout,
    org: Organisation,
    rows: Vec<Row>,
    examples: Vec<Specialty>,
    specialties: Vec<Specialty>,
    may_create: bool,
    /// May change the organisation's settings.
    administers: bool,
    errors: FormErrors,
    form: CreateForm,
    /// A request to join that was refused: the workspace and the message as typed.
    joining: Option<(WorkspaceId, String)>,
    /// The search as typed; workspaces and examples are those whose name or specialty holds it.
    q: String,
}

impl DiscoverPage {
    /// The message typed for this row's request, when it was refused.
    fn typed_for(&self, row: &Row) -> Option<&str> {
        self.joining
            .as_ref()
            .filter(|(id, _)| *id == row.id)
            .map(|(_, message)| message.as_str())
    }
}

struct Discovery {
    org: Organisation,
    rows: Vec<Row>,
    examples: Vec<Specialty>,
    specialties: Vec<Specialty>,
    may_create: bool,
    administers: bool,
}

fn discover(conn: &mut PgConnection, user: &User, org_id: OrganisationId) -> AppResult<Discovery> {
    let org = permissions::member_organisation(conn, user, org_id)?;
    let listed = workspaces::listed_in(conn, org.id)?;
    let mine = workspace_members::of_user(conn, user.id)?;
    let specialties = specialties::all(conn)?;
    let rows = listed
        .iter()
        .map(|l| Row {
            id: l.workspace.id,
            name: l.workspace.name.clone(),
            specialty: l.specialty.clone(),
            members: l.approved_members,
            status: match mine.iter().find(|(w, _)| w.id == l.workspace.id) {
                None => "Join",
                Some((_, m)) if m.is_approved() => "Member",
                Some(_) => "Pending",
            },
        })
        .collect();
    let examples = specialties
        .iter()
        .filter(|s| !listed.iter().any(|l| l.workspace.specialty_code == s.code))
        .cloned()
        .collect();
    let may_create = permissions::may_create_workspace(conn, user, &org)?;
    let administers = match permissions::administer_organisation(conn, user, org.id) {
        Ok(_) => true,
        Err(AppError::NotFound) => false,
        Err(e) => return Err(e),
    };
    Ok(Discovery {
        org,
        rows,
        examples,
        specialties,
        may_create,
        administers,
    })
}

async fn render(
    signed: &Signed,
    org: OrganisationId,
    errors: FormErrors,
    form: CreateForm,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| discover(conn, &frame.user, org))
        .await?;
    present(page, errors, form, None)
}

/// The page again after a request to join workspace `id` was refused, with the reason beside
/// the message and the message as typed.
pub async fn join_refused(
    signed: &Signed,
    id: WorkspaceId,
    typed: String,
    refused: DomainError,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let org = permissions::request_to_join(conn, &frame.user, id)?
                .workspace
                .organisation_id;
            discover(conn, &frame.user, org)
        })
        .await?;
    let mut errors = FormErrors::default();
    errors.add("message", refused.0);
    present(page, errors, CreateForm::default(), Some((id, typed)))
}

fn present(
    page: Page<Discovery>,
    errors: FormErrors,
    form: CreateForm,
    joining: Option<(WorkspaceId, String)>,
) -> AppResult<HttpResponse> {
    present_matching(page, errors, form, joining, String::new())
}

/// Whether `text` holds what was searched for, whatever the case (an empty search holds all).
fn matches(search: &str, text: &[&str]) -> bool {
    let search = search.trim().to_lowercase();
    search.is_empty() || text.iter().any(|t| t.to_lowercase().contains(&search))
}

fn present_matching(
    page: Page<Discovery>,
    errors: FormErrors,
    form: CreateForm,
    joining: Option<(WorkspaceId, String)>,
    q: String,
) -> AppResult<HttpResponse> {
    let mut d = page.data;
    d.rows.retain(|r| matches(&q, &[&r.name, &r.specialty]));
    d.examples.retain(|s| matches(&q, &[&s.name]));
    crate::web::render_with(
        errors.status(),
        &DiscoverPage {
            layout: page.layout,
            org: d.org,
            rows: d.rows,
            examples: d.examples,
            specialties: d.specialties,
            may_create: d.may_create,
            administers: d.administers,
            errors,
            form,
            joining,
            q,
        },
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SearchQuery {
    q: String,
}

pub async fn discover_page(
    signed: Signed,
    org: web::Path<OrganisationId>,
    query: web::Query<SearchQuery>,
) -> AppResult<HttpResponse> {
    let org = org.into_inner();
    let q: String = query.into_inner().q.trim().chars().take(100).collect();
    let page = signed
        .page(move |conn, frame| discover(conn, &frame.user, org))
        .await?;
    present_matching(page, FormErrors::default(), CreateForm::default(), None, q)
}

impl CreateForm {
    /// The form's own rules; the name's uniqueness and the specialty are the service's.
    fn parse(&self, errors: &mut FormErrors) -> Option<NewDetails> {
        let name = errors.check("name", WorkspaceName::parse(&self.name));
        if self.specialty.trim().is_empty() {
            errors.add("specialty", "Select the workspace's specialty");
        }
        let description = errors.check(
            "description",
            Text::parse(&self.description, workspace_service::DESCRIPTION),
        );
        Some(NewDetails {
            name: name?,
            specialty: self.specialty.clone(),
            description: description?,
        })
        .filter(|_| errors.is_empty())
    }
}

pub async fn create(
    signed: Signed,
    org: web::Path<OrganisationId>,
    form: web::Form<CreateForm>,
) -> AppResult<HttpResponse> {
    let (org, form) = (org.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    if let Some(details) = form.parse(&mut errors) {
        let ip = signed.ip.clone();
        let decision = signed
            .decide(move |conn, user| {
                workspace_service::create(conn, &Actor::person(user, &ip), org, &details)
            })
            .await?;
        match decision {
            Decision::Done(workspace) => return created(&signed, workspace.id, &workspace.name),
            Decision::Refused(refusal) => errors.add(refusal.field, refusal.reason),
        }
    }
    render(&signed, org, errors, form).await
}

pub async fn join_example(
    signed: Signed,
    org: web::Path<OrganisationId>,
    form: web::Form<ExampleForm>,
) -> AppResult<HttpResponse> {
    let (org, specialty) = (org.into_inner(), form.into_inner().specialty);
    let ip = signed.ip.clone();
    let workspace = signed
        .change(move |conn, user| {
            workspace_service::join_example(conn, &Actor::person(user, &ip), org, &specialty)
        })
        .await?;
    created(&signed, workspace.id, &workspace.name)
}

/// The new workspace becomes the current one.
fn created(signed: &Signed, id: WorkspaceId, name: &str) -> AppResult<HttpResponse> {
    signed.session.set_current_workspace(Some(id))?;
    signed.done(&format!("{name} is ready. You are its admin."), "/")
}
