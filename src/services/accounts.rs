//! Accounts as an organisation's administrators and the command line handle them: creating one
//! (or, for an address that already has an account outside the organisation, inviting it:
//! `services::organisation_invitations`), the account actions, correcting the names, and
//! merging a likely duplicate. Administrators never change an account that also belongs to
//! another organisation (suspending or removing it here is theirs: `services::trust`), nor their
//! own. Deactivating an account everywhere is the operator's switch (`staffroom user
//! deactivate`).

use diesel::prelude::*;

use super::organisation_invitations::{self, Carried};
use super::{Actor, Decision};
use crate::auth::permissions;
use crate::db::models::audit::{self, NewAuditEvent};
use crate::db::models::organisations::{self, Organisation, Standing};
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

/// The account the command line's address came to: made now, or the one it already had
/// (`joined` when that account was added to the organisation now).
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

/// What an administrator's address came to.
pub enum Added {
    /// A new account, with its confirmation email queued.
    Created(User),
    /// The address belongs to someone already in the organisation.
    AlreadyMember(User),
    /// The address has an account outside the organisation (or one it suspended or removed):
    /// it was invited to join, and nothing more is said about it.
    Invited { email: String },
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

/// "Add new user": the account, or an invitation for the address's existing account; refused
/// for an address the organisation does not admit.
pub fn add(
    conn: &mut PgConnection,
    base_url: &str,
    actor: &Actor,
    org: OrganisationId,
    who: &Newcomer,
) -> AppResult<Decision<Added>> {
    let org = permissions::administer_users(conn, actor.user()?, org)?;
    if !admits(conn, &org, &who.email)? {
        return Ok(Decision::Refused(not_admitted(&who.email)));
    }
    create_or_invite(conn, base_url, &org, who, actor, &Carried::default()).map(Decision::Done)
}

/// Creates the account in the caller's transaction, with its audit event and its email. An
/// address that already has an account is never pulled in: someone of the organisation is
/// referred to, anyone else is invited to join (`carried` goes with the invitation).
pub fn create_or_invite(
    conn: &mut PgConnection,
    base_url: &str,
    org: &Organisation,
    who: &Newcomer,
    actor: &Actor,
    carried: &Carried,
) -> AppResult<Added> {
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
        if organisations::standing(conn, org.id, user.id)? == Standing::Member {
            return Ok(Added::AlreadyMember(user));
        }
        organisation_invitations::invite(conn, base_url, actor, org, &user, carried)?;
        return Ok(Added::Invited { email: user.email });
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
    Ok(Added::Created(user))
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

/// `staffroom user deactivate` / `reactivate`: the operator's switch for a whole account,
/// whatever organisations it belongs to. Deactivating ends every session and live link at
/// once. Done says what happened (also when it already was so); refused for an unknown address.
pub fn switch_account(
    conn: &mut PgConnection,
    email: &EmailAddress,
    active: bool,
) -> AppResult<Decision> {
    let Some(user) = users::find_by_email(conn, email)? else {
        return Ok(Decision::Refused(format!(
            "No account has the address {email}"
        )));
    };
    // Changes to one account take turns (an administrator's action at the same moment).
    let user = users::lock(conn, user.id)?;
    let name = format!("{} <{}>", user.full_name(), user.email);
    let (changed, action, done) = if active {
        (
            people::reactivate(conn, user.id)?,
            AuditAction::AccountReactivated,
            "reactivated",
        )
    } else {
        let changed = people::deactivate(conn, user.id)?;
        // Whatever it was before, nobody stays signed in to a deactivated account.
        sign_out_everywhere(conn, user.id)?;
        (changed, AuditAction::AccountDeactivated, "deactivated")
    };
    if !changed {
        return Ok(Decision::Done(format!("{name} was already {done}.")));
    }
    audit::record(
        conn,
        &Actor::system()
            .event(action)
            .target(user.id)
            .detail(format!("The command line {done} {name}")),
    )?;
    Ok(Decision::Done(if active {
        format!("{name} is active again.")
    } else {
        format!("{name} is deactivated and signed out everywhere.")
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
/// account also belongs to another organisation, whose administrators it would reach too. For
/// this organisation, suspending or removing the person is theirs to do.
fn shared_account<T>(
    conn: &mut PgConnection,
    org: &Organisation,
    target: &User,
) -> AppResult<Option<Decision<T>>> {
    Ok(people::in_other_organisations(conn, org.id, target.id)?.then(|| {
        Decision::Refused(format!(
            "{} also belongs to another organisation, so this would change their account there too. To end their access to {}, suspend or remove them here instead.",
            target.full_name(),
            org.name
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
///
/// Only a pair the server itself flags (`people::are_likely_duplicates`: the same first name
/// and surname, or the same local part of two addresses the organisation admits; a profile
/// with the same names), by an administrator who may manage users *and* roles (merging hands
/// over memberships and roles), never into or from the administrator's own account, and never
/// an account that also belongs to another organisation.
pub fn merge(
    conn: &mut PgConnection,
    actor: &Actor,
    org: OrganisationId,
    keep: UserId,
    other: Duplicate,
) -> AppResult<Decision> {
    let admin = actor.user()?;
    let (org, kept) = permissions::administer_user(conn, admin, org, keep)?;
    if permissions::administer_roles(conn, admin, org.id).is_err() {
        return Ok(Decision::refused(
            "Merging moves memberships and roles, so it needs the manage roles permission as well as manage users",
        ));
    }
    if kept.id == admin.id {
        return Ok(Decision::refused(
            "Merge two other people's profiles: not one into your own",
        ));
    }
    let event = |action: AuditAction| actor.event(action).organisation(org.id);
    let other = match other {
        Duplicate::Profile(profile) => {
            let flagged =
                roster_profiles::unlinked_named(conn, org.id, &kept.first_name, &kept.surname)?
                    .iter()
                    .any(|p| p.id == profile);
            if !flagged {
                return Ok(Decision::refused(CHOOSE_DUPLICATE));
            }
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
    if other.id == kept.id || other.id == admin.id {
        return Ok(Decision::refused(
            "Merge two other people's profiles: not one into itself, nor your own",
        ));
    }
    if !people::are_likely_duplicates(conn, org.id, kept.id, other.id)? {
        return Ok(Decision::Refused(format!(
            "{} and {} do not look like the same person (neither the same names nor the same address at another of the organisation's domains), so they cannot be merged",
            other.full_name(),
            kept.full_name()
        )));
    }
    if !other.is_active() {
        return Ok(Decision::Refused(format!(
            "{} is deactivated already",
            other.full_name()
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
