//! The closed sets of values the product knows (roles, statuses, channels, actions), each an enum
//! stored in a text column under a fixed code. Reading an unknown code from the database is an
//! error, not a silent default; parsing one from a request is a `DomainError`.

use super::DomainError;

/// An enum kept in a `Text` column under one code per variant (like crates.io's `pg_enum!`).
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in the column and used in forms and paths.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn parse(code: &str) -> Result<Self, DomainError> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err(DomainError::new(concat!("Unknown ", stringify!($name)))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                Self::parse(&code).map_err(serde::de::Error::custom)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.code(),
                    out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let code = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                Self::parse(&code).map_err(|_| {
                    format!(concat!("unknown ", stringify!($name), " in the database: {:?}"), code)
                        .into()
                })
            }
        }
    };
}

text_enum! {
    /// A person's role in one workspace.
    pub enum WorkspaceRole {
        Admin = "admin",
        Member = "member",
        Guest = "guest",
    }
}

impl WorkspaceRole {
    /// "an admin", "a member", "a guest".
    pub fn with_article(self) -> &'static str {
        match self {
            WorkspaceRole::Admin => "an admin",
            WorkspaceRole::Member => "a member",
            WorkspaceRole::Guest => "a guest",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WorkspaceRole::Admin => "Admin",
            WorkspaceRole::Member => "Member",
            WorkspaceRole::Guest => "Guest",
        }
    }
}

text_enum! {
    /// Asked to join and waiting, or let in.
    pub enum MembershipStatus {
        Pending = "pending",
        Approved = "approved",
    }
}

text_enum! {
    /// How a message or an invitation reaches someone.
    pub enum Channel {
        Email = "email",
        Sms = "sms",
    }
}

text_enum! {
    /// Who may invite people into a workspace.
    pub enum InvitePolicy {
        Admins = "admins",
        Members = "members",
    }
}

text_enum! {
    /// A conversation about a patient: open, or marked done.
    pub enum ConversationStatus {
        Open = "open",
        Done = "done",
    }
}

text_enum! {
    /// What a workspace admin does to someone: the `{action}` in
    /// `/workspaces/{id}/members/{user_id}/{action}`.
    pub enum MemberAction {
        Approve = "approve",
        Decline = "decline",
        Remove = "remove",
        Role = "role",
    }
}

text_enum! {
    /// How an organisation's members may sign in.
    pub enum SignInPolicy {
        PasswordOrSso = "password_or_sso",
        SsoOnly = "sso_only",
    }
}

impl SignInPolicy {
    pub fn label(self) -> &'static str {
        match self {
            SignInPolicy::PasswordOrSso => "Password and authenticator app, or single sign-on",
            SignInPolicy::SsoOnly => "Single sign-on only",
        }
    }
}

/// Declares `AuditAction` with each action's code and the words the audit page shows.
macro_rules! audit_actions {
    ($($variant:ident = $code:literal => $words:literal),+ $(,)?) => {
        text_enum! {
            /// What an audit event records.
            pub enum AuditAction { $($variant = $code),+ }
        }

        impl AuditAction {
            /// What happened, in words, for the audit page and its CSV.
            pub fn words(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $words),+
                }
            }
        }
    };
}

audit_actions! {
    AccountCreated = "account_created" => "Account created",
    AccountDeactivated = "account_deactivated" => "Account deactivated",
    AccountDetailsChanged = "account_details_changed" => "Account details changed",
    AccountReactivated = "account_reactivated" => "Account reactivated",
    EmailVerified = "email_verified" => "Email address confirmed",
    GuestAccessEnded = "guest_access_ended" => "Guest access ended",
    GuestEndChanged = "guest_end_changed" => "Guest end date changed",
    InvitationAccepted = "invitation_accepted" => "Invitation accepted",
    InvitationDeclined = "invitation_declined" => "Invitation declined",
    InvitationRescinded = "invitation_rescinded" => "Invitation withdrawn",
    InvitationResent = "invitation_resent" => "Invitation sent again",
    InvitationSent = "invitation_sent" => "Invitation sent",
    JoinLinkDisabled = "join_link_disabled" => "Shareable link turned off",
    JoinLinkEnabled = "join_link_enabled" => "Shareable link turned on",
    JoinLinkRegenerated = "join_link_regenerated" => "Shareable link replaced",
    JoinRequested = "join_requested" => "Asked to join",
    JoinedByLink = "joined_by_link" => "Joined by the shareable link",
    MemberApproved = "member_approved" => "Request approved",
    MemberLeft = "member_left" => "Left the workspace",
    MemberRemoved = "member_removed" => "Removed from the workspace",
    NewInvitationAsked = "new_invitation_asked" => "Asked for a new invitation",
    OrganisationCreated = "organisation_created" => "Organisation created",
    OrganisationJoined = "organisation_joined" => "Joined the organisation",
    OrganisationSettingsChanged = "organisation_settings_changed" => "Organisation settings changed",
    PasswordAccepted = "password_accepted" => "Password accepted",
    PasswordChanged = "password_changed" => "Password changed",
    PasswordReset = "password_reset" => "Password reset",
    PasswordResetRequested = "password_reset_requested" => "Password reset asked for",
    PasswordSet = "password_set" => "Password chosen",
    PatientAdded = "patient_added" => "Patient added",
    PatientChanged = "patient_changed" => "Patient details changed",
    ProfileAddressRecorded = "profile_address_recorded" => "Email address added to a profile",
    RequestDeclined = "request_declined" => "Request declined",
    RoleAssigned = "role_assigned" => "Role given",
    RoleChanged = "role_changed" => "Role changed",
    RoleCreated = "role_created" => "Role created",
    RoleRemoved = "role_removed" => "Role taken away",
    SetupCompleted = "setup_completed" => "Set-up completed",
    SignIn = "sign_in" => "Signed in",
    SignInFailed = "sign_in_failed" => "Sign-in failed",
    SignOut = "sign_out" => "Signed out",
    SignUp = "sign_up" => "Signed up",
    SignUpExistingAccount = "sign_up_existing_account" => "Sign-up for an address that has an account",
    SignUpUnconfirmedAccount = "sign_up_unconfirmed_account" => "Sign-up for an unconfirmed account",
    TwoFactorEnrolled = "two_factor_enrolled" => "Authenticator app set up",
    TwoFactorFailed = "two_factor_failed" => "Wrong security code",
    TwoFactorReset = "two_factor_reset" => "Authenticator app reset",
    WorkspaceArchived = "workspace_archived" => "Workspace archived",
    WorkspaceCreated = "workspace_created" => "Workspace created",
    WorkspaceSettingsChanged = "workspace_settings_changed" => "Workspace settings changed",
    AccountConfirmationResent = "account_confirmation_resent" => "Confirmation email sent again",
    AccountMerged = "account_merged" => "Duplicate account merged into this one",
    AccountMergedAway = "account_merged_away" => "Merged into another account",
    OrganisationMemberAdded = "organisation_member_added" => "Added to the organisation",
    OrganisationMemberSuspended = "organisation_member_suspended" => "Suspended from the organisation",
    OrganisationMemberUnsuspended = "organisation_member_unsuspended" => "Suspension lifted",
    OrganisationMemberRemoved = "organisation_member_removed" => "Removed from the organisation",
    OrganisationInvitationSent = "organisation_invitation_sent" => "Invited to join the organisation",
    OrganisationInvitationAccepted = "organisation_invitation_accepted" => "Joined the organisation by invitation",
    ProfileImported = "profile_imported" => "Roster profile imported",
    ProfileMerged = "profile_merged" => "Roster profile merged",
    UsersImported = "users_imported" => "Roster imported",
    TeamCreated = "team_created" => "Team created",
    TeamMemberAdded = "team_member_added" => "Added to a team",
    TeamMemberRemoved = "team_member_removed" => "Taken out of a team",
    TeamInvited = "team_invited" => "Team invited to a workspace",
    TeamInvitationsResent = "team_invitations_resent" => "Team's invitations sent again",
    ContactAdded = "contact_added" => "Contact added",
    ContactAddedToWorkspace = "contact_added_to_workspace" => "Contact added to a workspace",
    ContactEmailAdded = "contact_email_added" => "Email address added to a contact",
    ContactMerged = "contact_merged" => "Duplicate contacts merged",
    SsoSignIn = "sso_sign_in" => "Signed in with single sign-on",
    SsoLinked = "sso_linked" => "Single sign-on linked",
    SsoUnlinked = "sso_unlinked" => "Single sign-on unlinked",
    SsoRefused = "sso_refused" => "Single sign-on refused",
    SsoLogout = "sso_logout" => "Signed out by the identity provider",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back_to_its_variant() {
        for role in WorkspaceRole::ALL {
            assert_eq!(WorkspaceRole::parse(role.code()), Ok(*role));
        }
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.code()), Ok(*action));
            assert!(!action.words().is_empty());
        }
    }

    #[test]
    fn an_unknown_code_is_refused() {
        assert!(WorkspaceRole::parse("owner").is_err());
        assert!(MemberAction::parse("Approve").is_err());
        assert!(AuditAction::parse("").is_err());
    }
}
