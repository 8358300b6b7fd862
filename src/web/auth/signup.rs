//! `/signup`: create an account with an email address an organisation admits, or from an
//! invitation link (`/signup?invitation={token}`). The answer is the same whether or not the
//! address already has an account; its owner gets an email instead (`services::sign_up`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::{throttle, TypedSession};
use crate::db::models::invitations::Invitation;
use crate::db::models::workspaces;
use crate::domain::{EmailAddress, EmailDomains, Password, PersonName};
use crate::error::AppResult;
use crate::services::sign_in::address;
use crate::services::sign_up::{self, NewAccount};
use crate::services::Decision;
use crate::web::forms::FormErrors;
use crate::web::guards::Visitor;
use crate::web::invitations::landing::{dead_link, link_state, LinkState};
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    first_name: String,
    surname: String,
    email: String,
    password: String,
    /// The token of the invitation being answered, if any.
    invitation: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupQuery {
    invitation: String,
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignupPage {
    layout: Layout,
    errors: FormErrors,
    /// What was typed (never the password).
    form: SignupForm,
    invitation: Option<InvitedSignup>,
    /// The invited address is the account's, shown but not typed.
    email_fixed: bool,
}

/// Sign-up from an invitation link.
struct InvitedSignup {
    token: String,
    workspace: String,
}

#[derive(Template)]
#[template(path = "auth/check_email.html")]
struct CheckEmailPage {
    layout: Layout,
    heading: &'static str,
    explanation: &'static str,
}

/// An account's names, address and password as typed, each checked by its own rules; with
/// `domains`, the address must be in one of them.
pub(crate) fn parse_account(
    errors: &mut FormErrors,
    typed: [&str; 4],
    domains: Option<&EmailDomains>,
) -> Option<NewAccount> {
    let [first_name, surname, email, password] = typed;
    let personal = [first_name, surname, email];
    let first_name = errors.check("first_name", PersonName::parse(first_name, "first name"));
    let surname = errors.check("surname", PersonName::parse(surname, "surname"));
    let email = errors.check("email", EmailAddress::parse(email));
    if let (Some(email), Some(domains)) = (&email, domains) {
        if !domains.admit(email) {
            errors.add(
                "email",
                "Enter an email address in one of the organisation's domains",
            );
        }
    }
    let password = errors.check("password", Password::parse(password, &personal));
    Some(NewAccount {
        first_name: first_name?,
        surname: surname?,
        email: email?,
        password: password?,
    })
    .filter(|_| errors.is_empty())
}

impl SignupForm {
    fn parse(&self, errors: &mut FormErrors) -> Option<NewAccount> {
        let typed = [
            &*self.first_name,
            &self.surname,
            &self.email,
            &self.password,
        ];
        parse_account(errors, typed, None)
    }
}

pub async fn signup_form(
    visitor: Visitor,
    query: web::Query<SignupQuery>,
) -> AppResult<HttpResponse> {
    let form = SignupForm {
        invitation: query.into_inner().invitation,
        ..SignupForm::default()
    };
    if !form.invitation.is_empty() {
        return invited::answer(&visitor, form, false).await;
    }
    crate::web::render(&SignupPage {
        layout: Layout::anonymous(&visitor.session)?,
        errors: FormErrors::default(),
        form,
        invitation: None,
        email_fixed: false,
    })
}

pub async fn sign_up(visitor: Visitor, form: web::Form<SignupForm>) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    if !form.invitation.is_empty() {
        return invited::answer(&visitor, form, true).await;
    }
    let mut errors = FormErrors::default();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    if let Some(account) = form.parse(&mut errors) {
        if let Some(refusal) = counted(&visitor).await? {
            errors.add("email", refusal);
            status = StatusCode::TOO_MANY_REQUESTS;
        } else {
            let base_url = visitor.base_url();
            let _turn = visitor.state.hashing.admit().await?;
            let decision = visitor
                .decide(move |conn, actor| sign_up::sign_up(conn, actor, &base_url, &account))
                .await?;
            match decision {
                Decision::Done(()) => return Ok(crate::web::see_other("/signup/check-email")),
                Decision::Refused(reason) => errors.add("email", reason),
            }
        }
    }
    crate::web::render_with(
        status,
        &SignupPage {
            layout: Layout::anonymous(&visitor.session)?,
            errors,
            form,
            invitation: None,
            email_fixed: false,
        },
    )
}

/// Counts the sign-up against the visitor's network, committed before anything is hashed (so
/// that a whole NAT's sign-ups do not queue behind one hash on the counter's row); what to tell
/// them when their network made too many this hour.
async fn counted(visitor: &Visitor) -> AppResult<Option<String>> {
    visitor
        .change(|conn, actor| throttle::visit(conn, throttle::Visit::SignUp, address(actor)))
        .await
}

pub async fn check_email_page(session: TypedSession) -> AppResult<HttpResponse> {
    crate::web::render(&CheckEmailPage {
        layout: Layout::anonymous(&session)?,
        heading: "Check your email",
        explanation: "We have sent you an email. Use the link in it within 24 hours to confirm your email address and finish creating your account. If you already have an account, the email tells you how to sign in.",
    })
}

/// Sign-up from an invitation link. For an emailed invitation the address is the invited one:
/// the person goes straight on to enrol their authenticator, then back to the invitation to
/// press Join. For a text-message invitation they type their own address, confirmed by email.
mod invited {
    use super::*;

    /// The form for a live invitation (`sent`: signing up with it), or the page saying why its
    /// link is dead.
    pub async fn answer(
        visitor: &Visitor,
        form: SignupForm,
        sent: bool,
    ) -> AppResult<HttpResponse> {
        let link = link_state(&visitor.state, &form.invitation, &visitor.ip).await?;
        let LinkState::Live(invitation) = link else {
            let session = &visitor.session;
            return dead_link(session, &visitor.state, None, &form.invitation, &link).await;
        };
        let form = form.answering(&invitation);
        let mut errors = FormErrors::default();
        let mut parsed = sent.then(|| form.parse(&mut errors)).flatten();
        if parsed.is_some() {
            if let Some(refusal) = counted(visitor).await? {
                errors.add("email", refusal);
                parsed = None;
            }
        }
        if let Some(account) = parsed {
            let (base_url, answered) = (visitor.base_url(), invitation.clone());
            let _turn = visitor.state.hashing.admit().await?;
            let decision = visitor
                .decide(move |conn, actor| {
                    sign_up::sign_up_invited(conn, actor, &base_url, &answered, &account)
                })
                .await?;
            match decision {
                Decision::Done(Some(user)) => {
                    // The password was just chosen: the second factor (its enrolment) remains.
                    let next = format!("/invitations/{}", form.invitation);
                    visitor.session.begin_second_factor(user, Some(&next))?;
                    return Ok(crate::web::see_other("/account/two-factor/setup"));
                }
                Decision::Done(None) => return Ok(crate::web::see_other("/signup/check-email")),
                Decision::Refused(reason) => errors.add("email", reason),
            }
        }
        render(visitor, form, errors, &invitation).await
    }

    async fn render(
        visitor: &Visitor,
        form: SignupForm,
        errors: FormErrors,
        invitation: &Invitation,
    ) -> AppResult<HttpResponse> {
        let id = invitation.workspace_id;
        let workspace = visitor
            .change(move |conn, _| Ok(workspaces::find(conn, id)?.name))
            .await?;
        crate::web::render_with(
            errors.status(),
            &SignupPage {
                layout: Layout::anonymous(&visitor.session)?,
                errors,
                invitation: Some(InvitedSignup {
                    token: form.invitation.clone(),
                    workspace,
                }),
                email_fixed: invitation.email.is_some(),
                form,
            },
        )
    }

    impl SignupForm {
        /// An emailed invitation's address is the account's, whatever was typed.
        fn answering(mut self, invitation: &Invitation) -> Self {
            if let Some(invited) = &invitation.email {
                self.email = invited.clone();
            }
            self
        }
    }
}
