//! `/login`: email and password, the first of two factors. An unknown address and a wrong
//! password get the same answer (`services::sign_in::password`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::domain::{NextPath, Text, TextRules};
use crate::error::AppResult;
use crate::services::sign_in::{self, Attempt, Credentials, Entry};
use crate::web::forms::FormErrors;
use crate::web::guards::Visitor;
use crate::web::layout::Layout;

/// The address as typed: whether it is anyone's is the service's question.
const TYPED_EMAIL: TextRules = TextRules::line("Your email address", 254);

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    errors: FormErrors,
    email: String,
    next: String,
    /// One button per single sign-on provider: (name, label).
    providers: Vec<(String, String)>,
}

fn providers(state: &crate::state::AppState) -> Vec<(String, String)> {
    state
        .oidc
        .all()
        .iter()
        .map(|p| (p.settings.name.clone(), p.settings.label.clone()))
        .collect()
}

/// Only a path on this site is kept to return to; anything else is dropped.
fn on_site(next: &str) -> String {
    NextPath::parse(next)
        .map(|n| n.as_str().to_string())
        .unwrap_or_default()
}

pub async fn login_form(
    visitor: Visitor,
    query: web::Query<LoginQuery>,
) -> AppResult<HttpResponse> {
    let session = &visitor.session;
    if session.user_id()?.is_some() {
        return Ok(crate::web::see_other("/"));
    }
    crate::web::render(&LoginPage {
        layout: Layout::anonymous(session)?,
        errors: FormErrors::default(),
        email: String::new(),
        next: on_site(&query.next),
        providers: providers(&visitor.state),
    })
}

pub async fn log_in(visitor: Visitor, form: web::Form<LoginForm>) -> AppResult<HttpResponse> {
    let mut form = form.into_inner();
    // An address with a control character in it is nobody's: refused as typed, before any
    // lookup or throttle (it could not even be a throttle's key).
    if let Err(refused) = Text::parse(&form.email, TYPED_EMAIL) {
        let mut errors = FormErrors::default();
        errors.add("email", refused.0);
        return render(&visitor, StatusCode::UNPROCESSABLE_ENTITY, errors, form);
    }
    let credentials = Credentials {
        email: form.email.clone(),
        password: SecretString::from(std::mem::take(&mut form.password)),
    };
    let base_url = visitor.base_url();
    let _turn = visitor.state.hashing.admit().await?;
    let attempt = visitor
        .change(move |conn, actor| sign_in::password(conn, actor, &base_url, &credentials))
        .await?;
    let (status, message) = match attempt {
        Attempt::Passed(Entry::SecondFactor { user, enrolled }) => {
            let next = NextPath::parse(&form.next);
            visitor
                .session
                .begin_second_factor(user, next.as_ref().map(NextPath::as_str))?;
            return Ok(crate::web::see_other(if enrolled {
                "/login/two-factor"
            } else {
                "/account/two-factor/setup"
            }));
        }
        Attempt::Throttled(wait) => (StatusCode::TOO_MANY_REQUESTS, wait),
        Attempt::Failed => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Enter a correct email address and password".into(),
        ),
        Attempt::Passed(Entry::SsoOnly) => (
            StatusCode::FORBIDDEN,
            sso_only_message(&visitor.state.oidc.labels()),
        ),
        Attempt::Passed(Entry::Deactivated) => (
            StatusCode::FORBIDDEN,
            "Your account has been deactivated. Contact your trust administrator".into(),
        ),
        Attempt::Passed(Entry::Unconfirmed { link_sent: true }) => (
            StatusCode::FORBIDDEN,
            "Confirm your email address before you sign in. We have sent you a new link".into(),
        ),
        Attempt::Passed(Entry::Unconfirmed { link_sent: false }) => (
            StatusCode::FORBIDDEN,
            "Confirm your email address before you sign in. We sent you links recently: use the newest one, or try again in an hour".into(),
        ),
    };
    let mut errors = FormErrors::default();
    errors.add("email", message);
    render(&visitor, status, errors, form)
}

/// Names the button(s) to use instead of the password.
fn sso_only_message(labels: &[String]) -> String {
    let buttons = labels
        .iter()
        .map(|l| format!("\u{201c}{l}\u{201d}"))
        .collect::<Vec<_>>()
        .join(" or ");
    if buttons.is_empty() {
        "Your organisation signs in with single sign-on only, which is not set up here yet. Contact your trust administrator".into()
    } else {
        format!("Your organisation signs in with single sign-on only: use {buttons}")
    }
}

/// The form again, with the address as typed (never the password).
fn render(
    visitor: &Visitor,
    status: StatusCode,
    errors: FormErrors,
    form: LoginForm,
) -> AppResult<HttpResponse> {
    crate::web::render_with(
        status,
        &LoginPage {
            layout: Layout::anonymous(&visitor.session)?,
            errors,
            next: on_site(&form.next),
            email: form.email,
            providers: providers(&visitor.state),
        },
    )
}

/// Where to go once both factors have passed.
pub fn after_sign_in(next: Option<String>) -> String {
    next.and_then(|n| NextPath::parse(&n))
        .map_or_else(|| "/".to_string(), |n| n.as_str().to_string())
}
