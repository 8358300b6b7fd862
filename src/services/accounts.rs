//! Accounts as an organisation's administrators and the command line handle them: creating one
//! (or referring to the account the address already has), the account actions, correcting the
//! names, and merging a likely duplicate. Administrators never act on an account that also
//! belongs to another organisation, nor on their own.

use diesel::prelude::*;

use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::users::{self, User};
use crate::db::models::{people, recovery_codes, roles, roster_profiles, sessions, tokens, totp};
use crate::db::schema::users as users_table;
use crate::domain::{AuditAction, EmailAddress, OrganisationId, PersonName, TokenPurpose, UserId};
use crate::error::{AppError, AppResult};
use crate::mail::{self, messages};

/// How long the emailed confirmation link works.
pub const CONFIRMATION_HOURS: i64 = 24;

/// Someone to create an account for, already parsed.
pub struct Newcomer {
    pub first_name: PersonName,
    pub surname: PersonName,
    pub email: EmailAddress,
    pub medical_secretary: bool,
    pub imported: bool,
}

/// The account an address came to: made now, or the one it already had (`joined` when that
/// account was added to the organisation now).
pub enum Account {
    Created(User),
    Existing { user: User, joined: bool },
}

impl Account {
    pub fn user(&self) -> &User {
        match self {
            Account::Created(user) | Account::Existing { user, .. } => user,
        }
    }
}

/// Whether the organisation's allowed domains admit the address.
pub fn admits(
    conn: &mut PgConnection,
    org: &Organisation,
    email: &EmailAddress,
) -> AppResult<bool> {
    Ok(organisations::admits(conn, org.id, email.as_str())?)
}

/// Why an address outside the organisation's domains is refused.
pub fn not_admitted(email: &EmailAddress) -> String {
    format!("{email} is not in the organisation's email domains")
}

/// "Add new user": the account, or the existing one referred to; refused for an address the
/// organisation does not admit.
pub fn add(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: OrganisationId,
    who: &Newcomer,
) -> AppResult<Decision<Account>> {
    let org = permissions::administer_users(conn, actor.user()?, org)?;
    if !admits(conn, &org, &who.email)? {
        return Ok(Decision::Refused(not_admitted(&who.email)));
    }
    create_or_refer(conn, base_url, &org, who, actor).map(Decision::Done)
}

/// Creates the account (or refers to the existing one) in the caller's transaction, with its
/// audit event and its email.
pub fn create_or_refer(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    who: &Newcomer,
    actor: &Actor,
) -> AppResult<Account> {
    // ON CONFLICT waits for a concurrent insert of the same address and then yields to it.
    let inserted: Option<User> = diesel::insert_into(users_table::table)
        .values(&users::NewUser {
            id: UserId::new(),
            email: who.email.as_str(),
            first_name: who.first_name.as_str(),
            surname: who.surname.as_str(),
            password_hash: None,
            email_verified_at: None,
            medical_secretary: who.medical_secretary,
            imported: who.imported,
        })
        .on_conflict_do_nothing()
        .returning(User::as_returning())
        .get_result(conn)
        .optional()?;
    let Some(user) = inserted else {
        let user = users::find_by_email(conn, &who.email)?.ok_or(AppError::NotFound)?;
        let joined = organisations::add_member(conn, org.id, user.id)? == 1;
        if joined {
            audit::record(
                conn,
                &actor
                    .event(AuditAction::OrganisationMemberAdded)
                    .target(user.id)
                    .organisation(org.id)
                    .detail(format!(
                        "{} added {} (an existing account) to {}",
                        actor.name(),
                        user.full_name(),
                        org.name
                    )),
            )?;
        }
        return Ok(Account::Existing { user, joined });
    };
    organisations::add_member(conn, org.id, user.id)?;
    send_confirmation(conn, base_url, org, &user)?;
    let mut flags = Vec::new();
    if user.medical_secretary {
        flags.push("medical secretary");
    }
    if user.imported {
        flags.push("imported");
    }
    audit::record(
        conn,
        &actor
            .event(AuditAction::AccountCreated)
            .target(user.id)
            .organisation(org.id)
            .detail(format!(
                "{} created the account for {} <{}>{}",
                actor.name(),
                user.full_name(),
                user.email,
                if flags.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", flags.join(", "))
                }
            )),
    )?;
    Ok(Account::Created(user))
}

/// Issues a new 24-hour confirmation link (earlier ones stop working) and queues its email:
/// "choose a password" for an account without one, "confirm your address" otherwise.
pub fn send_confirmation(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    user: &User,
) -> AppResult<()> {
    let link = super::sign_up::confirmation_link(conn, base_url, user)?;
    if user.password_hash.is_none() {
        let message = messages::SetPassword {
            first_name: user.first_name.clone(),
            organisation: org.name.clone(),
            link,
        };
        mail::enqueue(conn, &user.email, &message)?;
    } else {
        let message = messages::VerifyEmail {
            first_name: user.first_name.clone(),
            link,
        };
        mail::enqueue(conn, &user.email, &message)?;
    }
    Ok(())
}

/// `staffroom user create`, already parsed.
pub struct CommandLineAccount {
    pub email: EmailAddress,
    pub first_name: PersonName,
    pub surname: PersonName,
    /// `Some`: verified at once with this password; `None`: a set-password email is queued.
    pub password_hash: Option<String>,
    pub trust_admin: bool,
}

/// The command line's account: created (or the existing one added to the organisation), made
/// a trust administrator if asked. Refused, with the organisation's domains, for an address
/// they do not admit.
pub fn create_from_command_line(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    account: &CommandLineAccount,
) -> AppResult<Decision<Account>> {
    let domains = organisations::domains(conn, org.id)?;
    if !domains.iter().any(|d| account.email.is_in_domain(d)) {
        return Ok(Decision::Refused(format!(
            "{} is not in the organisation's domains ({})",
            account.email,
            domains.join(", ")
        )));
    }
    let found = match users::find_by_email(conn, &account.email)? {
        Some(existing) => Account::Existing {
            user: existing,
            joined: false,
        },
        None => Account::Created(users::insert(
            conn,
            &users::NewUser {
                id: UserId::new(),
                email: account.email.as_str(),
                first_name: account.first_name.as_str(),
                surname: account.surname.as_str(),
                password_hash: account.password_hash.as_deref(),
                email_verified_at: account.password_hash.as_ref().map(|_| chrono::Utc::now()),
                medical_secretary: false,
                imported: false,
            },
        )?),
    };
    let user = found.user();
    let joined = organisations::add_member(conn, org.id, user.id)? == 1;
    if account.trust_admin {
        let role = roles::trust_administrator(conn, org.id)?;
        if !roles::organisation_wide_of(conn, org.id, user.id)?
            .iter()
            .any(|r| r.id == role.id)
        {
            roles::assign_organisation_wide(conn, &role, user.id, None)?;
        }
    }
    if user.password_hash.is_none() {
        send_confirmation(conn, base_url, org, user)?;
    }
    audit::record(
        conn,
        &Actor::system()
            .event(AuditAction::AccountCreated)
            .target(user.id)
            .organisation(org.id)
            .detail(if account.trust_admin {
                "command line, trust administrator"
            } else {
                "command line"
            }),
    )?;
    Ok(Decision::Done(match found {
        Account::Existing { user, .. } => Account::Existing { user, joined },
        created => created,
    }))
}

/// The "..." menu of a person's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    /// A new 24-hour link (the old one dies), only while the address is unconfirmed.
    ResendConfirmation,
    /// Every session ends at once.
    Deactivate,
    Reactivate,
    /// The next sign-in enrols a new authenticator.
    ResetTwoFactor,
}

/// The administrator, the organisation and the person acted on.
struct Subject<'a> {
    actor: &'a Actor<'a>,
    admin: &'a User,
    org: &'a Organisation,
    target: &'a User,
}

impl Subject<'_> {
    fn event(&self, action: AuditAction, detail: String) -> NewAuditEvent {
        self.actor
            .event(action)
            .target(self.target.id)
            .organisation(self.org.id)
            .detail(detail)
    }
}

/// An administrator's account action on someone of the organisation. Done says what happened.
pub fn act(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: OrganisationId,
    person: UserId,
    action: AccountAction,
) -> AppResult<Decision> {
    let admin = actor.user()?;
    let (org, target) = permissions::administer_user(conn, admin, org, person)?;
    let subject = Subject {
        actor,
        admin,
        org: &org,
        target: &target,
    };
    match action {
        AccountAction::ResendConfirmation => resend_confirmation(conn, base_url, &subject),
        AccountAction::Deactivate => deactivate(conn, &subject),
        AccountAction::Reactivate => reactivate(conn, &subject),
        AccountAction::ResetTwoFactor => reset_two_factor(conn, &subject),
    }
}

/// Why an action on the whole account is refused to this organisation's administrators: the
/// account also belongs to another organisation, whose administrators it would reach too.
fn shared_account<T>(
    conn: &mut PgConnection,
    org: &Organisation,
    target: &User,
) -> AppResult<Option<Decision<T>>> {
    Ok(people::in_other_organisations(conn, org.id, target.id)?.then(|| {
        Decision::Refused(format!(
            "{} also belongs to another organisation, so this would change their account there too. Remove their roles here, or ask them (or the administrators of every organisation they belong to) instead",
            target.full_name()
        ))
    }))
}

/// Ends every session of the account and kills its live links.
fn sign_out_everywhere(conn: &mut PgConnection, user: UserId) -> AppResult<()> {
    sessions::delete_for_user(conn, user)?;
    tokens::revoke_live(conn, TokenPurpose::VerifyEmail, Some(user))?;
    tokens::revoke_live(conn, TokenPurpose::ResetPassword, Some(user))?;
    Ok(())
}

fn resend_confirmation(
    conn: &mut PgConnection,
    base_url: &str,
    s: &Subject,
) -> AppResult<Decision> {
    if s.target.is_verified() {
        return Ok(Decision::Refused(format!(
            "{} has already confirmed their account",
            s.target.full_name()
        )));
    }
    if !s.target.is_active() {
        return Ok(Decision::Refused(format!(
            "{}'s account is deactivated: reactivate it first",
            s.target.full_name()
        )));
    }
    send_confirmation(conn, base_url, s.org, s.target)?;
    let detail = format!(
        "{} resent the account confirmation to {} <{}>",
        s.admin.full_name(),
        s.target.full_name(),
        s.target.email
    );
    audit::record(
        conn,
        &s.event(AuditAction::AccountConfirmationResent, detail),
    )?;
    Ok(Decision::Done(format!(
        "We have emailed {} a new link, valid for 24 hours. The earlier link no longer works.",
        s.target.email
    )))
}

fn deactivate(conn: &mut PgConnection, s: &Subject) -> AppResult<Decision> {
    if let Some(refusal) = shared_account(conn, s.org, s.target)? {
        return Ok(refusal);
    }
    if s.target.id == s.admin.id {
        return Ok(Decision::refused("You cannot deactivate your own account"));
    }
    if !people::deactivate(conn, s.target.id)? {
        return Ok(Decision::Refused(format!(
            "{} is already deactivated",
            s.target.full_name()
        )));
    }
    sign_out_everywhere(conn, s.target.id)?;
    let detail = format!(
        "{} deactivated {}",
        s.admin.full_name(),
        s.target.full_name()
    );
    audit::record(conn, &s.event(AuditAction::AccountDeactivated, detail))?;
    Ok(Decision::Done(format!(
        "{} is deactivated and signed out everywhere.",
        s.target.full_name()
    )))
}

fn reactivate(conn: &mut PgConnection, s: &Subject) -> AppResult<Decision> {
    if let Some(refusal) = shared_account(conn, s.org, s.target)? {
        return Ok(refusal);
    }
    if !people::reactivate(conn, s.target.id)? {
        return Ok(Decision::Refused(format!(
            "{} is already active",
            s.target.full_name()
        )));
    }
    let detail = format!(
        "{} reactivated {}",
        s.admin.full_name(),
        s.target.full_name()
    );
    audit::record(conn, &s.event(AuditAction::AccountReactivated, detail))?;
    Ok(Decision::Done(format!(
        "{} is active again.",
        s.target.full_name()
    )))
}

fn reset_two_factor(conn: &mut PgConnection, s: &Subject) -> AppResult<Decision> {
    if let Some(refusal) = shared_account(conn, s.org, s.target)? {
        return Ok(refusal);
    }
    if s.target.id == s.admin.id {
        return Ok(Decision::refused(
            "You cannot reset your own two-factor: ask another administrator",
        ));
    }
    totp::remove(conn, s.target.id)?;
    recovery_codes::remove_all(conn, s.target.id)?;
    sessions::delete_for_user(conn, s.target.id)?;
    let detail = format!(
        "{} reset the two-factor authentication of {}",
        s.admin.full_name(),
        s.target.full_name()
    );
    audit::record(conn, &s.event(AuditAction::TwoFactorReset, detail))?;
    Ok(Decision::Done(format!(
        "{}'s two-factor is reset: they set up their authenticator again when they next sign in.",
        s.target.full_name()
    )))
}

/// The names an administrator corrects (never the email, the password or the flag).
pub struct Names {
    pub first_name: PersonName,
    pub surname: PersonName,
}

/// Saves corrected names, with their audit; unchanged names change nothing. Refused for an
/// account shared with another organisation.
pub fn rename(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    person: UserId,
    names: &Names,
) -> AppResult<Decision<()>> {
    let admin = actor.user()?;
    let (org, person) = permissions::administer_user(conn, admin, org, person)?;
    let (first_name, surname) = (names.first_name.as_str(), names.surname.as_str());
    if first_name == person.first_name && surname == person.surname {
        return Ok(Decision::Done(()));
    }
    if let Some(refusal) = shared_account(conn, &org, &person)? {
        return Ok(refusal);
    }
    people::rename(conn, person.id, first_name, surname)?;
    audit::record(
        conn,
        &actor
            .event(AuditAction::AccountDetailsChanged)
            .target(person.id)
            .organisation(org.id)
            .detail(format!(
                "{} renamed {} to {first_name} {surname}",
                admin.full_name(),
                person.full_name(),
            )),
    )?;
    Ok(Decision::Done(()))
}

/// The likely duplicate to merge into the account kept.
#[derive(Debug, Clone, Copy)]
pub enum Duplicate {
    Account(UserId),
    /// An email-less rostered profile.
    Profile(uuid::Uuid),
}

/// The refusal when the duplicate named is not one (of this organisation).
pub const CHOOSE_DUPLICATE: &str = "Choose a profile to merge";

/// Merges a likely duplicate into `keep`. Another account's workspace memberships, roles and
/// history in the organisation move over and it is deactivated; an email-less profile is
/// linked to the account. Both sides' audit says so.
pub fn merge(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    keep: UserId,
    other: Duplicate,
) -> AppResult<Decision> {
    let admin = actor.user()?;
    let (org, kept) = permissions::administer_user(conn, admin, org, keep)?;
    let event = |action: AuditAction| actor.event(action).organisation(org.id);
    let other = match other {
        Duplicate::Profile(profile) => {
            let Some(linked) = roster_profiles::link(conn, org.id, profile, kept.id)? else {
                return Ok(Decision::refused(CHOOSE_DUPLICATE));
            };
            audit::record(
                conn,
                &event(AuditAction::ProfileMerged)
                    .target(kept.id)
                    .detail(format!(
                        "{} merged the profile without an email address of {} into {}",
                        admin.full_name(),
                        linked.full_name(),
                        kept.full_name()
                    )),
            )?;
            return Ok(Decision::Done(format!(
                "The profile of {} is merged into {}.",
                linked.full_name(),
                kept.full_name()
            )));
        }
        Duplicate::Account(other) => match people::find_member(conn, org.id, other) {
            Ok(user) => user,
            Err(diesel::result::Error::NotFound) => return Ok(Decision::refused(CHOOSE_DUPLICATE)),
            Err(e) => return Err(e.into()),
        },
    };
    if other.id == kept.id || other.id == admin.id || kept.id == admin.id {
        return Ok(Decision::refused(
            "Merge two other people's profiles: not one into itself, nor your own",
        ));
    }
    if !other.is_active() {
        return Ok(Decision::Refused(format!(
            "{} is deactivated already",
            other.full_name()
        )));
    }
    // Merging hands the other account's roles to the kept one: that is changing roles.
    if roles::holds_any(conn, other.id)?
        && permissions::administer_roles(conn, admin, org.id).is_err()
    {
        return Ok(Decision::Refused(format!(
            "{} holds roles: merging would give them to {}, and only administrators who may manage roles can do that",
            other.full_name(),
            kept.full_name()
        )));
    }
    if people::in_other_organisations(conn, org.id, other.id)? {
        return Ok(Decision::Refused(format!(
            "{} also belongs to another organisation, so only its administrators and yours together can merge it",
            other.full_name()
        )));
    }
    people::merge_into(conn, org.id, kept.id, other.id)?;
    people::deactivate(conn, other.id)?;
    sign_out_everywhere(conn, other.id)?;
    let merged = format!(
        "{} merged {} <{}> into {} <{}>",
        admin.full_name(),
        other.full_name(),
        other.email,
        kept.full_name(),
        kept.email
    );
    audit::record(
        conn,
        &event(AuditAction::AccountMerged)
            .target(kept.id)
            .detail(merged.clone()),
    )?;
    audit::record(
        conn,
        &event(AuditAction::AccountMergedAway)
            .target(other.id)
            .detail(format!("{merged} and deactivated it")),
    )?;
    Ok(Decision::Done(format!(
        "{} <{}> is merged into this account and deactivated.",
        other.full_name(),
        other.email
    )))
}
