//! What a verified single sign-on leads to: the account its identity is linked to, linking it
//! to the account with its (trusted) email, or a new account that joins the organisations
//! admitting the email and, for CIS2, those whose ODS code the person holds a role at; whether
//! Staffroom's own code is still owed; linking an identity after a password sign-in or from
//! the sign-in methods page; unlinking (never the last way in); and back-channel logout.

use diesel::prelude::*;
use diesel::PgConnection;
use serde::{Deserialize, Serialize};

use super::{Actor, Decision};
use crate::auth::oidc::logout::LogoutRequest;
use crate::auth::oidc::Verified;
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations::{self, Standing};
use crate::db::models::user_identities::{self, Identity, NewIdentity};
use crate::db::models::users::{self, NewUser, User};
use crate::db::models::{sessions, sso_logout_tokens, totp};
use crate::domain::{AuditAction, EmailAddress, IdentityId, PersonName, UserId};
use crate::error::AppResult;

/// How the second factor is settled after a provider's sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// The provider's `acr`/`amr` showed one (`_MFA`): signed in.
    AtProvider,
    /// Staffroom's authenticator code is next.
    Code,
    /// No authenticator yet: enrolling one is next.
    Enrol,
}

/// Where a verified sign-in leads.
#[derive(Debug)]
pub enum Entry {
    SignedIn {
        user: UserId,
        second_factor: SecondFactor,
    },
    /// An account has this email, but the provider's word for it is not trusted: the person
    /// signs in with password and code once to link it.
    LinkWithPassword(PendingLink),
    Deactivated,
}

/// An identity to link once its owner has signed in with password and code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLink {
    pub provider: String,
    pub subject: String,
    pub email: String,
    pub role_names: Vec<String>,
    /// For the message after: "NHSmail".
    pub provider_name: String,
}

/// A refusal, with its reason for the audit trail and its words for the person.
fn refuse<T>(
    conn: &mut PgConnection,
    actor: &Actor,
    verified: &Verified,
    reason: &str,
    words: String,
) -> AppResult<Decision<T>> {
    audit::record(
        conn,
        &actor
            .event(AuditAction::SsoRefused)
            .detail(format!("{}: {reason}", verified.provider)),
    )?;
    Ok(Decision::Refused(words))
}

/// A sign-in the provider vouched for (`provider_name`: "NHSmail", for the person's words).
/// Refused (the person told why) when there is no account to link or make; a refusal keeps
/// its audit event, so it is `Done` here with the reason in `Err`.
pub fn sign_in(
    conn: &mut PgConnection,
    actor: &Actor,
    verified: &Verified,
    provider_name: &str,
) -> AppResult<Result<Entry, String>> {
    let decided = decide_entry(conn, actor, verified, provider_name)?;
    Ok(match decided {
        Decision::Done(entry) => Ok(entry),
        Decision::Refused(words) => Err(words),
    })
}

fn decide_entry(
    conn: &mut PgConnection,
    actor: &Actor,
    verified: &Verified,
    provider_name: &str,
) -> AppResult<Decision<Entry>> {
    let roles: Vec<Option<String>> = verified.role_names.iter().cloned().map(Some).collect();
    let user = match user_identities::find(conn, &verified.provider, &verified.subject)? {
        Some(identity) => {
            user_identities::signed_in(conn, identity.id, verified.email.as_deref(), roles)?;
            users::lock(conn, identity.user_id)?
        }
        None => {
            let Some(email) = verified.email.as_deref() else {
                return refuse(
                    conn,
                    actor,
                    verified,
                    "no email claim",
                    format!("{provider_name} did not give us your email address, so we cannot find your Staffroom account. Sign in with your password, then link {provider_name} from Sign-in methods"),
                );
            };
            let Ok(email) = EmailAddress::parse(email) else {
                return refuse(
                    conn,
                    actor,
                    verified,
                    "the email claim is not an address",
                    format!("{provider_name} gave an email address Staffroom cannot use"),
                );
            };
            match users::find_by_email(conn, &email)? {
                Some(user) if verified.email_trusted => {
                    link(
                        conn,
                        actor,
                        &user,
                        verified,
                        "the email address it vouches for",
                    )?;
                    users::lock(conn, user.id)?
                }
                Some(user) => {
                    audit::record(
                        conn,
                        &actor
                            .event(AuditAction::SsoRefused)
                            .target(user.id)
                            .detail(format!(
                            "{}: not linked, its email is not verified; password and code asked",
                            verified.provider
                        )),
                    )?;
                    return Ok(Decision::Done(Entry::LinkWithPassword(PendingLink {
                        provider: verified.provider.clone(),
                        subject: verified.subject.clone(),
                        email: user.email,
                        role_names: verified.role_names.clone(),
                        provider_name: provider_name.to_string(),
                    })));
                }
                None if !verified.email_trusted => {
                    return refuse(
                        conn,
                        actor,
                        verified,
                        "no account, and the email is not verified",
                        format!("{provider_name} did not confirm your email address, so we cannot create your Staffroom account. Ask your trust administrator"),
                    );
                }
                None => match create_account(conn, actor, verified, &email)? {
                    Some(user) => user,
                    None => {
                        return refuse(
                            conn,
                            actor,
                            verified,
                            "no organisation admits the email or holds its ODS codes",
                            format!("No organisation on Staffroom admits {email}. Ask your trust administrator to add you"),
                        );
                    }
                },
            }
        }
    };
    if !user.is_active() {
        audit::record(
            conn,
            &actor
                .event(AuditAction::SsoRefused)
                .target(user.id)
                .detail(format!("{}: the account is deactivated", verified.provider)),
        )?;
        return Ok(Decision::Done(Entry::Deactivated));
    }
    join_by_ods_code(conn, actor, &user, verified)?;
    let second_factor = if verified.second_factor {
        SecondFactor::AtProvider
    } else if totp::is_enrolled(conn, user.id)? {
        SecondFactor::Code
    } else {
        SecondFactor::Enrol
    };
    let how = match second_factor {
        SecondFactor::AtProvider => format!(
            "{}; second factor at the provider ({})",
            verified.provider,
            evidence(verified)
        ),
        SecondFactor::Code | SecondFactor::Enrol => {
            format!("{}; authenticator code still asked", verified.provider)
        }
    };
    audit::record(
        conn,
        &actor
            .event(AuditAction::SsoSignIn)
            .actor(user.id)
            .target(user.id)
            .detail(how),
    )?;
    Ok(Decision::Done(Entry::SignedIn {
        user: user.id,
        second_factor,
    }))
}

fn evidence(verified: &Verified) -> String {
    let mut parts = Vec::new();
    if let Some(acr) = &verified.acr {
        parts.push(format!("acr {acr}"));
    }
    if !verified.amr.is_empty() {
        parts.push(format!("amr {}", verified.amr.join(" ")));
    }
    parts.join(", ")
}

/// Links the identity to the account, with its audit event.
fn link(
    conn: &mut PgConnection,
    actor: &Actor,
    user: &User,
    verified: &Verified,
    how: &str,
) -> AppResult<bool> {
    let linked = user_identities::insert(
        conn,
        &NewIdentity {
            id: IdentityId::new(),
            provider: &verified.provider,
            subject: &verified.subject,
            user_id: user.id,
            email: verified.email.as_deref(),
            role_names: verified.role_names.iter().cloned().map(Some).collect(),
        },
    )?;
    if linked.is_some() {
        audit::record(
            conn,
            &actor
                .event(AuditAction::SsoLinked)
                .actor(user.id)
                .target(user.id)
                .detail(format!("{} linked by {how}", verified.provider)),
        )?;
    }
    Ok(linked.is_some())
}

/// A new account for a person the provider vouches for: verified email, no password, in the
/// organisations that admit the address and (CIS2) those whose ODS code they hold a role or
/// an association at. `None` when there is none to join.
fn create_account(
    conn: &mut PgConnection,
    actor: &Actor,
    verified: &Verified,
    email: &EmailAddress,
) -> AppResult<Option<User>> {
    let mut orgs = organisations::admitting(conn, email)?;
    orgs.extend(
        organisations::with_ods_codes(conn, &verified.org_codes)?
            .into_iter()
            .map(|o| o.id),
    );
    orgs.sort();
    orgs.dedup();
    if orgs.is_empty() {
        return Ok(None);
    }
    let (first_name, surname) = names(verified, email);
    // ON CONFLICT waits for a parallel sign-in making the same account, then yields to it.
    let inserted: Option<User> = diesel::insert_into(crate::db::schema::users::table)
        .values(&NewUser {
            id: UserId::new(),
            email: email.as_str(),
            first_name: &first_name,
            surname: &surname,
            password_hash: None,
            email_verified_at: Some(chrono::Utc::now()),
            medical_secretary: false,
            imported: false,
        })
        .on_conflict_do_nothing()
        .returning(User::as_returning())
        .get_result(conn)
        .optional()?;
    let Some(user) = inserted else {
        let user = users::find_by_email(conn, email)?.ok_or(crate::error::AppError::NotFound)?;
        link(
            conn,
            actor,
            &user,
            verified,
            "the email address it vouches for",
        )?;
        return Ok(Some(user));
    };
    audit::record(
        conn,
        &actor
            .event(AuditAction::AccountCreated)
            .actor(user.id)
            .target(user.id)
            .detail(format!(
                "{} <{}> signed in with {} for the first time",
                user.full_name(),
                user.email,
                verified.provider
            )),
    )?;
    for org in orgs {
        if organisations::add_member(conn, org, user.id)? == 1 {
            audit::record(
                conn,
                &actor
                    .event(AuditAction::OrganisationJoined)
                    .actor(user.id)
                    .target(user.id)
                    .organisation(org)
                    .detail(format!(
                        "{} joined through {}",
                        user.full_name(),
                        verified.provider
                    )),
            )?;
        }
    }
    link(conn, actor, &user, verified, "a new account")?;
    Ok(Some(user))
}

/// The names the provider gave; where it gave none, read from the address
/// ("amy.okonkwo@nhs.net" is Amy Okonkwo).
fn names(verified: &Verified, email: &EmailAddress) -> (String, String) {
    let mut parts = email
        .local_part()
        .split(['.', '_', '-'])
        .filter(|p| !p.is_empty() && p.chars().all(char::is_alphabetic))
        .map(capitalised);
    let from_address = (parts.next(), parts.last());
    let valid = |name: Option<&String>, what: &str| {
        name.and_then(|n| PersonName::parse(n, what).ok())
            .map(|n| n.as_str().to_string())
    };
    let first = valid(verified.first_name.as_ref(), "first name")
        .or(from_address.0)
        .unwrap_or_else(|| "Unknown".into());
    let surname = valid(verified.surname.as_ref(), "surname")
        .or(from_address.1)
        .unwrap_or_else(|| "Unknown".into());
    (first, surname)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// CIS2: the organisations whose ODS code the person holds a role or an association at, joined
/// at every sign-in (roles change), except those that suspended or removed them.
fn join_by_ods_code(
    conn: &mut PgConnection,
    actor: &Actor,
    user: &User,
    verified: &Verified,
) -> AppResult<()> {
    for org in organisations::with_ods_codes(conn, &verified.org_codes)? {
        if organisations::standing(conn, org.id, user.id)? != Standing::Outside {
            continue;
        }
        if organisations::add_member(conn, org.id, user.id)? == 1 {
            audit::record(
                conn,
                &actor
                    .event(AuditAction::OrganisationJoined)
                    .actor(user.id)
                    .target(user.id)
                    .organisation(org.id)
                    .detail(format!(
                        "{} joined {} through {} (ODS code {})",
                        user.full_name(),
                        org.name,
                        verified.provider,
                        org.ods_code.as_deref().unwrap_or_default()
                    )),
            )?;
        }
    }
    Ok(())
}

/// After a password and code sign-in: links the identity that was waiting, when the account is
/// the one with its email. The words to tell the person, or `None` when nothing was linked.
pub fn link_after_password(
    conn: &mut PgConnection,
    actor: &Actor,
    pending: &PendingLink,
) -> AppResult<Option<String>> {
    let user = actor.user()?;
    if !user.email.eq_ignore_ascii_case(&pending.email) {
        return Ok(None);
    }
    let verified = Verified {
        provider: pending.provider.clone(),
        subject: pending.subject.clone(),
        email: Some(pending.email.clone()),
        email_trusted: false,
        first_name: None,
        surname: None,
        second_factor: false,
        sid: None,
        role_names: pending.role_names.clone(),
        org_codes: Vec::new(),
        acr: None,
        amr: Vec::new(),
    };
    Ok(link(
        conn,
        actor,
        user,
        &verified,
        "the person's password and code",
    )?
    .then(|| {
        format!(
            "Your {} account is now linked. Next time, sign in with {}.",
            pending.provider_name, pending.provider_name
        )
    }))
}

/// A signed-in person links another provider from Sign-in methods. Refused when the identity
/// is someone else's, or the account already has one from this provider.
pub fn link_to_signed_in(
    conn: &mut PgConnection,
    actor: &Actor,
    verified: &Verified,
    provider_name: &str,
) -> AppResult<Decision> {
    let user = actor.user()?;
    if let Some(identity) = user_identities::find(conn, &verified.provider, &verified.subject)? {
        if identity.user_id == user.id {
            return Ok(Decision::Done(format!(
                "Your {provider_name} account was already linked."
            )));
        }
        return refuse(
            conn,
            actor,
            verified,
            "the identity is linked to another account",
            format!("That {provider_name} account is linked to another Staffroom account"),
        );
    }
    if user_identities::of_user(conn, user.id)?
        .iter()
        .any(|i| i.provider == verified.provider)
    {
        return refuse(
            conn,
            actor,
            verified,
            "the account already has an identity from this provider",
            format!("Your account already has a {provider_name} account linked. Unlink it first"),
        );
    }
    link(conn, actor, user, verified, "the person, signed in")?;
    Ok(Decision::Done(format!(
        "Your {provider_name} account is now linked."
    )))
}

/// The account's linked identities, and whether its password is a way in.
pub fn methods(conn: &mut PgConnection, user: &User) -> AppResult<(Vec<Identity>, bool)> {
    let identities = user_identities::of_user(conn, user.id)?;
    Ok((identities, password_is_a_way_in(conn, user)?))
}

fn password_is_a_way_in(conn: &mut PgConnection, user: &User) -> AppResult<bool> {
    Ok(user.password_hash.is_some() && !organisations::in_sso_only_organisation(conn, user.id)?)
}

/// Unlinks one of the person's identities; refused when it is their last way in. Another
/// person's identity is not found.
pub fn unlink(conn: &mut PgConnection, actor: &Actor, identity: IdentityId) -> AppResult<Decision> {
    let user = users::lock(conn, actor.user()?.id)?;
    let identities = user_identities::of_user(conn, user.id)?;
    let Some(target) = identities.iter().find(|i| i.id == identity) else {
        return Err(crate::error::AppError::NotFound);
    };
    if identities.len() == 1 && !password_is_a_way_in(conn, &user)? {
        return Ok(Decision::refused(
            "You cannot unlink your only way to sign in. Link another provider or set a password first",
        ));
    }
    user_identities::delete(conn, user.id, identity)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::SsoUnlinked)
            .target(user.id)
            .detail(format!("{} unlinked", target.provider)),
    )?;
    Ok(Decision::Done("Sign-in method unlinked.".into()))
}

/// What a back-channel logout came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Logout {
    /// Sessions ended (perhaps none were left).
    Ended(usize),
    /// The token's `jti` was seen before.
    Replayed,
}

/// A valid logout token: its `jti` recorded (a replay is refused), then the sessions of its
/// `sid` ended, or without one every session of `sub`'s account from this provider.
pub fn back_channel_logout(
    conn: &mut PgConnection,
    ip: Option<String>,
    provider: &str,
    request: &LogoutRequest,
) -> AppResult<Logout> {
    if !sso_logout_tokens::record(conn, provider, &request.jti, request.keep_until)? {
        audit::record(
            conn,
            &NewAuditEvent::new(AuditAction::SsoRefused, ip)
                .detail(format!("{provider}: a logout token replayed")),
        )?;
        return Ok(Logout::Replayed);
    }
    let user = match &request.subject {
        Some(subject) => user_identities::find(conn, provider, subject)?.map(|i| i.user_id),
        None => None,
    };
    let ended = match (&request.sid, user) {
        (Some(sid), _) => sessions::delete_for_sso_sid(conn, provider, sid)?,
        (None, Some(user)) => sessions::delete_for_sso_user(conn, provider, user)?,
        (None, None) => 0,
    };
    let mut event = NewAuditEvent::new(AuditAction::SsoLogout, ip).detail(format!(
        "{provider}: {ended} session{} ended",
        if ended == 1 { "" } else { "s" }
    ));
    if let Some(user) = user {
        event = event.target(user);
    }
    audit::record(conn, &event)?;
    Ok(Logout::Ended(ended))
}
