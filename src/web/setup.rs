//! First-run setup: while the database has no users, the server prints a one-time link
//! `/setup/{token}` whose page creates the first organisation and its trust administrator.

use crate::domain::AuditAction;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{password, TypedSession};
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::tokens::{self, TokenState};
use crate::db::models::{organisations, roles, users};
use crate::db::PgPool;
use crate::domain::{
    token::sha256_hex, EmailAddress, Password, PersonName, Token, TokenPurpose, UserId,
};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::auth::link_problem::{self, live_token, LinkProblem};
use crate::web::forms::FormErrors;
use crate::web::layout::Layout;

pub const DEFAULT_DOMAINS: &str = "nhs.net, nhs.uk";

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/setup/{token}")
            .route(web::get().to(setup_form))
            .route(web::post().to(set_up)),
    );
}

/// When nobody has an account yet, issues a fresh setup link (the previous one stops working)
/// and returns it.
pub fn issue_link_if_empty(pool: &PgPool, base_url: &str) -> anyhow::Result<Option<String>> {
    let conn = &mut *pool.get()?;
    if users::any_exist(conn)? {
        return Ok(None);
    }
    let token = Token::generate();
    tokens::issue(
        conn,
        TokenPurpose::Setup,
        None,
        &token.hash(),
        chrono::Duration::days(7),
    )?;
    Ok(Some(format!("{base_url}/setup/{}", token.plain())))
}

#[derive(Deserialize)]
#[serde(default)]
pub struct SetupForm {
    organisation_name: String,
    domains: String,
    first_name: String,
    surname: String,
    email: String,
    password: String,
}

impl Default for SetupForm {
    fn default() -> Self {
        Self {
            organisation_name: String::new(),
            domains: DEFAULT_DOMAINS.to_string(),
            first_name: String::new(),
            surname: String::new(),
            email: String::new(),
            password: String::new(),
        }
    }
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    errors: FormErrors,
    form: SetupForm,
}

/// Domains typed as "nhs.net, nhs.uk" or one a line; "@nhs.net" is read as "nhs.net".
pub fn parse_domains(raw: &str) -> Result<Vec<String>, crate::domain::DomainError> {
    let mut domains: Vec<String> = raw
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|d| d.trim().trim_start_matches('@').to_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    domains.sort();
    domains.dedup();
    if domains.is_empty() {
        return Err(crate::domain::DomainError::new(
            "Enter at least one email domain, like nhs.net",
        ));
    }
    for domain in &domains {
        EmailAddress::parse(&format!("x@{domain}")).map_err(|_| {
            crate::domain::DomainError::new(format!(
                "{domain} is not an email domain, like nhs.net"
            ))
        })?;
    }
    Ok(domains)
}

pub async fn setup_form(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    match live_token(
        &state,
        TokenPurpose::Setup,
        &token,
        &crate::web::client_ip(&req),
    )
    .await?
    {
        Ok(_) => crate::web::render(&SetupPage {
            layout: Layout::anonymous(&session)?,
            errors: FormErrors::default(),
            form: SetupForm::default(),
        }),
        Err(problem) => link_problem::render(&session, problem, "setup"),
    }
}

pub async fn set_up(
    req: HttpRequest,
    session: TypedSession,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<SetupForm>,
) -> AppResult<HttpResponse> {
    if let Err(problem) = live_token(
        &state,
        TokenPurpose::Setup,
        &token,
        &crate::web::client_ip(&req),
    )
    .await?
    {
        return link_problem::render(&session, problem, "setup");
    }
    let form = form.into_inner();
    let mut errors = FormErrors::default();
    let org_name = form.organisation_name.trim().to_string();
    if org_name.is_empty() {
        errors.add("organisation_name", "Enter the organisation's name");
    }
    let domains = errors.check("domains", parse_domains(&form.domains));
    let first_name = errors.check(
        "first_name",
        PersonName::parse(&form.first_name, "first name"),
    );
    let surname = errors.check("surname", PersonName::parse(&form.surname, "surname"));
    let email = errors.check("email", EmailAddress::parse(&form.email));
    if let (Some(email), Some(domains)) = (&email, &domains) {
        if !domains.iter().any(|d| email.is_in_domain(d)) {
            errors.add(
                "email",
                "Enter an email address in one of the organisation's domains",
            );
        }
    }
    let password = errors.check(
        "password",
        Password::parse(
            &form.password,
            &[&form.first_name, &form.surname, &form.email],
        ),
    );
    let (Some(domains), Some(first_name), Some(surname), Some(email), Some(password)) =
        (domains, first_name, surname, email, password)
    else {
        return crate::web::render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                layout: Layout::anonymous(&session)?,
                errors,
                form,
            },
        );
    };
    if !errors.is_empty() {
        return crate::web::render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SetupPage {
                layout: Layout::anonymous(&session)?,
                errors,
                form,
            },
        );
    }
    let password_hash = password::hash(password).await?;
    let hash = sha256_hex(&token);
    let ip = crate::web::client_ip(&req);
    let done = crate::db::transaction(&state.pool, move |conn| {
        if tokens::consume(conn, TokenPurpose::Setup, &hash)?.is_none() || users::any_exist(conn)? {
            return Ok(false);
        }
        let org = organisations::create(conn, &org_name, &domains)?;
        let user = users::insert(
            conn,
            &users::NewUser {
                id: UserId::new(),
                email: email.as_str(),
                first_name: first_name.as_str(),
                surname: surname.as_str(),
                password_hash: Some(&password_hash),
                email_verified_at: Some(chrono::Utc::now()),
                medical_secretary: false,
                imported: false,
            },
        )?;
        organisations::add_member(conn, org.id, user.id)?;
        let admin_role = roles::trust_administrator(conn, org.id)?;
        roles::assign_organisation_wide(conn, &admin_role, user.id, None)?;
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::SetupCompleted, Some(ip))
                .actor(user.id)
                .target(user.id)
                .organisation(org.id)
                .detail(format!("created {} with its trust administrator", org.name)),
        )?;
        Ok(true)
    })
    .await?;
    if !done {
        return link_problem::render(&session, LinkProblem::Dead(TokenState::Used), "setup");
    }
    session.set_flash("Staffroom is set up. Sign in, then set up your authenticator app.")?;
    Ok(crate::web::see_other("/login"))
}
