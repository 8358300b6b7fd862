//! First-run setup: while the database has no users, the server prints a one-time link
//! `/setup/{token}` whose page creates the first organisation and its trust administrator
//! (`services::setup`).

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::PgPool;
use crate::domain::{EmailDomains, Text, TextRules, TokenPurpose};
use crate::error::AppResult;
use crate::services::links::{self, Link};
use crate::services::setup::{self, FirstRun};
use crate::web::auth::link_problem;
use crate::web::auth::signup::parse_account;
use crate::web::forms::FormErrors;
use crate::web::guards::Visitor;
use crate::web::layout::Layout;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/setup/{token}")
            .route(web::get().to(setup_form))
            .route(web::post().to(set_up)),
    );
}

/// For start-up (and the tests): the first-run link, while nobody has an account.
pub fn issue_link_if_empty(pool: &PgPool, base_url: &str) -> anyhow::Result<Option<String>> {
    Ok(setup::issue_link_if_empty(&mut *pool.get()?, base_url)?)
}

const ORGANISATION_NAME: TextRules = TextRules::line("The organisation's name", 200);

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
            domains: EmailDomains::DEFAULT.to_string(),
            first_name: String::new(),
            surname: String::new(),
            email: String::new(),
            password: String::new(),
        }
    }
}

impl SetupForm {
    fn parse(&self, errors: &mut FormErrors) -> Option<FirstRun> {
        let organisation = errors.check(
            "organisation_name",
            Text::required(
                &self.organisation_name,
                ORGANISATION_NAME,
                "Enter the organisation's name",
            ),
        );
        let domains = errors.check("domains", EmailDomains::parse(&self.domains));
        let typed = [
            &*self.first_name,
            &self.surname,
            &self.email,
            &self.password,
        ];
        let administrator = parse_account(errors, typed, domains.as_ref());
        Some(FirstRun {
            organisation: organisation?.into_string(),
            domains: domains?,
            administrator: administrator?,
        })
        .filter(|_| errors.is_empty())
    }
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    errors: FormErrors,
    form: SetupForm,
}

/// The form while the link is live (with what was typed and its errors), or why it is dead.
async fn render(
    visitor: &Visitor,
    token: String,
    form: SetupForm,
    errors: FormErrors,
) -> AppResult<HttpResponse> {
    let link = visitor
        .change(move |conn, actor| links::live(conn, actor, TokenPurpose::Setup, &token))
        .await?;
    match link {
        Link::Live(_) => crate::web::render_with(
            errors.status(),
            &SetupPage {
                layout: Layout::anonymous(&visitor.session)?,
                errors,
                form,
            },
        ),
        Link::Problem(problem) => {
            link_problem::render(&visitor.session, problem, TokenPurpose::Setup)
        }
    }
}

pub async fn setup_form(visitor: Visitor, token: web::Path<String>) -> AppResult<HttpResponse> {
    let form = SetupForm::default();
    render(&visitor, token.into_inner(), form, FormErrors::default()).await
}

pub async fn set_up(
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<SetupForm>,
) -> AppResult<HttpResponse> {
    let (token, form) = (token.into_inner(), form.into_inner());
    let mut errors = FormErrors::default();
    let Some(first_run) = form.parse(&mut errors) else {
        return render(&visitor, token, form, errors).await;
    };
    let _turn = visitor.state.hashing.admit().await?;
    let link = visitor
        .change(move |conn, actor| setup::set_up(conn, actor, &token, &first_run))
        .await?;
    match link {
        Link::Live(()) => visitor.done(
            "Staffroom is set up. Sign in, then set up your authenticator app.",
            "/login",
        ),
        Link::Problem(problem) => {
            link_problem::render(&visitor.session, problem, TokenPurpose::Setup)
        }
    }
}
