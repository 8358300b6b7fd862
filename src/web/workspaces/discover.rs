//! `GET /organisations/{org_id}/workspaces`: the organisation's workspaces with specialty,
//! member count and your status, example workspaces (one per specialty with none yet), and the
//! form to create one. `POST` creates; `POST .../examples/join` creates an example's workspace
//! with the joiner as its admin.

use crate::domain::AuditAction;
use crate::domain::{MembershipStatus, WorkspaceRole};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use diesel::PgConnection;
use serde::Deserialize;

use crate::auth::{permissions, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations::Organisation;
use crate::db::models::specialties::{self, Specialty};
use crate::db::models::users::User;
use crate::db::models::workspace_members;
use crate::db::models::workspaces::{self, NewWorkspace, Workspace};
use crate::domain::{OrganisationId, WorkspaceId, WorkspaceName};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::forms::FormErrors;
use crate::web::guards::CurrentUser;
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

fn page(
    session: &TypedSession,
    current: &CurrentUser,
    d: Discovery,
    errors: FormErrors,
    form: CreateForm,
) -> AppResult<DiscoverPage> {
    Ok(DiscoverPage {
        layout: Layout::signed_in(session, &current.user, &current.nav)?,
        org: d.org,
        rows: d.rows,
        examples: d.examples,
        specialties: d.specialties,
        may_create: d.may_create,
        administers: d.administers,
        errors,
        form,
    })
}

pub async fn discover_page(
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let (user, org_id) = (current.user.clone(), org_id.into_inner());
    let d = crate::db::run(&state.pool, move |conn| discover(conn, &user, org_id)).await?;
    crate::web::render(&page(
        &session,
        &current,
        d,
        FormErrors::default(),
        CreateForm::default(),
    )?)
}

fn name_taken(org: &Organisation, name: &WorkspaceName) -> String {
    format!(
        "{} already has a workspace called {}. Ask to join it, or choose a name specific to your team",
        org.name,
        name.as_str()
    )
}

/// Creates the workspace with `creator` as its approved admin, in the caller's transaction;
/// `None` when the name was taken at the same moment.
fn create_workspace(
    conn: &mut PgConnection,
    creator: &User,
    org: &Organisation,
    name: &WorkspaceName,
    specialty: &str,
    description: &str,
    ip: &str,
) -> AppResult<Option<Workspace>> {
    let Some(workspace) = workspaces::insert_unless_name_taken(
        conn,
        &NewWorkspace {
            id: WorkspaceId::new(),
            organisation_id: org.id,
            name: name.as_str(),
            specialty_code: specialty,
            description,
            created_by: Some(creator.id),
        },
    )?
    else {
        return Ok(None);
    };
    workspace_members::insert(
        conn,
        workspace.id,
        creator.id,
        MembershipStatus::Approved,
        WorkspaceRole::Admin,
        "",
        Some(creator.id),
    )?;
    audit::record(
        conn,
        &NewAuditEvent::new(AuditAction::WorkspaceCreated, Some(ip.to_string()))
            .actor(creator.id)
            .target(creator.id)
            .organisation(org.id)
            .workspace(workspace.id)
            .detail(format!(
                "{} created {} and is its admin",
                creator.full_name(),
                workspace.name
            )),
    )?;
    Ok(Some(workspace))
}

pub async fn create(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
    form: web::Form<CreateForm>,
) -> AppResult<HttpResponse> {
    let (user, org_id, form, ip) = (
        current.user.clone(),
        org_id.into_inner(),
        form.into_inner(),
        crate::web::client_ip(&req),
    );
    let outcome = crate::db::transaction(&state.pool, move |conn| {
        let d = discover(conn, &user, org_id)?;
        if !d.may_create {
            return Err(AppError::NotFound);
        }
        let mut errors = FormErrors::default();
        let name = errors.check("name", WorkspaceName::parse(&form.name));
        if let Some(name) = &name {
            if workspaces::name_taken(conn, d.org.id, name.as_str())? {
                errors.add("name", name_taken(&d.org, name));
            }
        }
        if !d.specialties.iter().any(|s| s.code == form.specialty) {
            errors.add("specialty", "Select the workspace's specialty");
        }
        if form.description.chars().count() > 1000 {
            errors.add(
                "description",
                "The description must be 1,000 characters or fewer",
            );
        }
        match name.filter(|_| errors.is_empty()) {
            Some(name) => {
                let description = form.description.trim();
                match create_workspace(
                    conn,
                    &user,
                    &d.org,
                    &name,
                    &form.specialty,
                    description,
                    &ip,
                )? {
                    Some(ws) => Ok(Ok(ws)),
                    None => {
                        errors.add("name", name_taken(&d.org, &name));
                        Ok(Err((d, errors, form)))
                    }
                }
            }
            None => Ok(Err((d, errors, form))),
        }
    })
    .await?;
    match outcome {
        Ok(workspace) => {
            session.set_current_workspace(Some(workspace.id))?;
            session.set_flash(&format!("{} is ready. You are its admin.", workspace.name))?;
            Ok(crate::web::see_other("/"))
        }
        Err((d, errors, form)) => crate::web::render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&session, &current, d, errors, form)?,
        ),
    }
}

pub async fn join_example(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    current: CurrentUser,
    org_id: web::Path<OrganisationId>,
    form: web::Form<ExampleForm>,
) -> AppResult<HttpResponse> {
    let (user, org_id, ip) = (
        current.user.clone(),
        org_id.into_inner(),
        crate::web::client_ip(&req),
    );
    let code = form.into_inner().specialty;
    let workspace = crate::db::transaction(&state.pool, move |conn| {
        let d = discover(conn, &user, org_id)?;
        // Only a specialty that still has no workspace is an example.
        let specialty = d
            .examples
            .iter()
            .find(|s| s.code == code)
            .ok_or(AppError::NotFound)?;
        if !d.may_create {
            return Err(AppError::NotFound);
        }
        let mut name = specialty.name.clone();
        if workspaces::name_taken(conn, d.org.id, &name)? {
            name = format!("{name} team");
        }
        let name = WorkspaceName::parse(&name).map_err(|e| anyhow::anyhow!(e.0))?;
        create_workspace(conn, &user, &d.org, &name, &specialty.code, "", &ip)?.ok_or_else(|| {
            anyhow::anyhow!("the example's name was taken at the same moment").into()
        })
    })
    .await?;
    session.set_current_workspace(Some(workspace.id))?;
    session.set_flash(&format!("{} is ready. You are its admin.", workspace.name))?;
    Ok(crate::web::see_other("/"))
}
