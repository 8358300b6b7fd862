//! Every email Staffroom sends. Links are whole absolute URLs built from STAFFROOM_BASE_URL.

use askama::Template;

use super::Email;

/// Implements `Email` for a message struct from its two template structs.
macro_rules! email {
    ($message:ident, $text:ident, $html:ident, |$m:ident| $subject:expr) => {
        impl Email for $message {
            fn subject(&self) -> String {
                let $m = self;
                $subject
            }
            fn text_body(&self) -> askama::Result<String> {
                $text { m: self }.render()
            }
            fn html_body(&self) -> askama::Result<String> {
                $html { m: self }.render()
            }
        }
    };
}

/// Sent at sign-up: confirm the address (24 hours).
pub struct VerifyEmail {
    pub first_name: String,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/verify_email.txt")]
struct VerifyEmailText<'a> {
    m: &'a VerifyEmail,
}
#[derive(Template)]
#[template(path = "emails/verify_email.html")]
struct VerifyEmailHtml<'a> {
    m: &'a VerifyEmail,
}
email!(VerifyEmail, VerifyEmailText, VerifyEmailHtml, |_m| {
    "Confirm your email address for Staffroom".to_string()
});

/// Sent instead of a verification email when someone signs up with an address that already
/// has an account (the page says the same either way).
pub struct AccountExists {
    pub first_name: String,
    pub sign_in_link: String,
    pub reset_link: String,
}
#[derive(Template)]
#[template(path = "emails/account_exists.txt")]
struct AccountExistsText<'a> {
    m: &'a AccountExists,
}
#[derive(Template)]
#[template(path = "emails/account_exists.html")]
struct AccountExistsHtml<'a> {
    m: &'a AccountExists,
}
email!(AccountExists, AccountExistsText, AccountExistsHtml, |_m| {
    "You already have a Staffroom account".to_string()
});

/// A link to choose a new password (1 hour).
pub struct ResetPassword {
    pub first_name: String,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/reset_password.txt")]
struct ResetPasswordText<'a> {
    m: &'a ResetPassword,
}
#[derive(Template)]
#[template(path = "emails/reset_password.html")]
struct ResetPasswordHtml<'a> {
    m: &'a ResetPassword,
}
email!(ResetPassword, ResetPasswordText, ResetPasswordHtml, |_m| {
    "Reset your Staffroom password".to_string()
});

/// Tells the owner their password changed, in case it was not them.
pub struct PasswordChanged {
    pub first_name: String,
    pub reset_link: String,
}
#[derive(Template)]
#[template(path = "emails/password_changed.txt")]
struct PasswordChangedText<'a> {
    m: &'a PasswordChanged,
}
#[derive(Template)]
#[template(path = "emails/password_changed.html")]
struct PasswordChangedHtml<'a> {
    m: &'a PasswordChanged,
}
email!(
    PasswordChanged,
    PasswordChangedText,
    PasswordChangedHtml,
    |_m| "Your Staffroom password was changed".to_string()
);

/// An account created for someone (by an administrator or the command line): confirm the
/// address and choose a password (24 hours).
pub struct SetPassword {
    pub first_name: String,
    pub organisation: String,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/set_password.txt")]
struct SetPasswordText<'a> {
    m: &'a SetPassword,
}
#[derive(Template)]
#[template(path = "emails/set_password.html")]
struct SetPasswordHtml<'a> {
    m: &'a SetPassword,
}
email!(SetPassword, SetPasswordText, SetPasswordHtml, |m| {
    format!(
        "Your Staffroom account at {}: choose a password",
        m.organisation
    )
});

/// To each admin of a workspace when someone asks to join it.
pub struct JoinRequest {
    pub admin_first_name: String,
    pub requester_name: String,
    pub requester_email: String,
    pub workspace: String,
    pub message: String,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/join_request.txt")]
struct JoinRequestText<'a> {
    m: &'a JoinRequest,
}
#[derive(Template)]
#[template(path = "emails/join_request.html")]
struct JoinRequestHtml<'a> {
    m: &'a JoinRequest,
}
email!(JoinRequest, JoinRequestText, JoinRequestHtml, |m| format!(
    "{} asked to join {}",
    m.requester_name, m.workspace
));

/// To the requester: approved, or declined.
pub struct JoinOutcome {
    pub first_name: String,
    pub workspace: String,
    pub approved: bool,
    pub decided_by: String,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/join_outcome.txt")]
struct JoinOutcomeText<'a> {
    m: &'a JoinOutcome,
}
#[derive(Template)]
#[template(path = "emails/join_outcome.html")]
struct JoinOutcomeHtml<'a> {
    m: &'a JoinOutcome,
}
email!(
    JoinOutcome,
    JoinOutcomeText,
    JoinOutcomeHtml,
    |m| if m.approved {
        format!("You can now use {}", m.workspace)
    } else {
        format!("Your request to join {} was declined", m.workspace)
    }
);

/// To someone an admin took out of a workspace.
pub struct RemovedFromWorkspace {
    pub first_name: String,
    pub workspace: String,
    pub removed_by: String,
}
#[derive(Template)]
#[template(path = "emails/removed_from_workspace.txt")]
struct RemovedFromWorkspaceText<'a> {
    m: &'a RemovedFromWorkspace,
}
#[derive(Template)]
#[template(path = "emails/removed_from_workspace.html")]
struct RemovedFromWorkspaceHtml<'a> {
    m: &'a RemovedFromWorkspace,
}
email!(
    RemovedFromWorkspace,
    RemovedFromWorkspaceText,
    RemovedFromWorkspaceHtml,
    |m| format!("You have been removed from {}", m.workspace)
);

/// To a workspace's admins: the organisation's administrators removed someone from the
/// organisation, and so from the workspace; `promoted` when the recipient became its admin
/// because the person removed was the only one.
pub struct RemovedFromOrganisation {
    pub admin_first_name: String,
    pub person: String,
    pub workspace: String,
    pub organisation: String,
    pub removed_by: String,
    pub promoted: bool,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/removed_from_organisation.txt")]
struct RemovedFromOrganisationText<'a> {
    m: &'a RemovedFromOrganisation,
}
#[derive(Template)]
#[template(path = "emails/removed_from_organisation.html")]
struct RemovedFromOrganisationHtml<'a> {
    m: &'a RemovedFromOrganisation,
}
email!(
    RemovedFromOrganisation,
    RemovedFromOrganisationText,
    RemovedFromOrganisationHtml,
    |m| format!("{} is no longer in {}", m.person, m.workspace)
);

/// An invitation to join an organisation, to an address that already has an account: the
/// person accepts it themselves, signed in with that address.
pub struct OrganisationInvitation {
    pub inviter_name: String,
    pub organisation: String,
    pub address: String,
    pub expires_on: String,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/organisation_invitation.txt")]
struct OrganisationInvitationText<'a> {
    m: &'a OrganisationInvitation,
}
#[derive(Template)]
#[template(path = "emails/organisation_invitation.html")]
struct OrganisationInvitationHtml<'a> {
    m: &'a OrganisationInvitation,
}
email!(
    OrganisationInvitation,
    OrganisationInvitationText,
    OrganisationInvitationHtml,
    |m| format!("Join {} on Staffroom", m.organisation)
);

/// An invitation into a workspace (and, with `reminder`, the reminder three days before it
/// expires). The same fields make the text message sent to a guest's mobile.
pub struct Invitation {
    pub inviter_name: String,
    pub workspace: String,
    pub organisation: String,
    pub role_label: String,
    pub address: String,
    pub expires_on: String,
    pub link: String,
    pub reminder: bool,
}
#[derive(Template)]
#[template(path = "emails/invitation.txt")]
struct InvitationText<'a> {
    m: &'a Invitation,
}
#[derive(Template)]
#[template(path = "emails/invitation.html")]
struct InvitationHtml<'a> {
    m: &'a Invitation,
}
email!(Invitation, InvitationText, InvitationHtml, |m| m.subject());

/// The same invitation as a text message.
#[derive(Template)]
#[template(path = "sms/invitation.txt")]
struct InvitationSmsText<'a> {
    m: &'a Invitation,
}

impl super::Sms for Invitation {
    fn text(&self) -> askama::Result<String> {
        Ok(InvitationSmsText { m: self }.render()?.trim().to_string())
    }
}

/// To the inviter: the person declined.
pub struct InvitationDeclined {
    pub inviter_first_name: String,
    pub invitee: String,
    pub workspace: String,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/invitation_declined.txt")]
struct InvitationDeclinedText<'a> {
    m: &'a InvitationDeclined,
}
#[derive(Template)]
#[template(path = "emails/invitation_declined.html")]
struct InvitationDeclinedHtml<'a> {
    m: &'a InvitationDeclined,
}
email!(
    InvitationDeclined,
    InvitationDeclinedText,
    InvitationDeclinedHtml,
    |m| format!("{} declined your invitation to {}", m.invitee, m.workspace)
);

/// To the workspace's admins: someone with a dead invitation link asks for a new one.
pub struct NewInvitationAsked {
    pub admin_first_name: String,
    pub invitee: String,
    pub workspace: String,
    pub reason: String,
    pub link: String,
}
#[derive(Template)]
#[template(path = "emails/new_invitation_asked.txt")]
struct NewInvitationAskedText<'a> {
    m: &'a NewInvitationAsked,
}
#[derive(Template)]
#[template(path = "emails/new_invitation_asked.html")]
struct NewInvitationAskedHtml<'a> {
    m: &'a NewInvitationAsked,
}
email!(
    NewInvitationAsked,
    NewInvitationAskedText,
    NewInvitationAskedHtml,
    |m| format!("{} asks for a new invitation to {}", m.invitee, m.workspace)
);

/// To a guest a week before their membership ends.
pub struct GuestEnding {
    pub first_name: String,
    pub workspace: String,
    pub ends_on: String,
}
#[derive(Template)]
#[template(path = "emails/guest_ending.txt")]
struct GuestEndingText<'a> {
    m: &'a GuestEnding,
}
#[derive(Template)]
#[template(path = "emails/guest_ending.html")]
struct GuestEndingHtml<'a> {
    m: &'a GuestEnding,
}
email!(GuestEnding, GuestEndingText, GuestEndingHtml, |m| format!(
    "Your guest access to {} ends on {}",
    m.workspace, m.ends_on
));

impl Invitation {
    fn subject(&self) -> String {
        if self.reminder {
            format!(
                "Reminder: your invitation to {} expires on {}",
                self.workspace, self.expires_on
            )
        } else {
            format!(
                "{} invited you to join {} on Staffroom",
                self.inviter_name, self.workspace
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_text_part_holds_the_whole_link_and_html_escapes_names() {
        let email = VerifyEmail {
            first_name: "<b>Amy</b>".into(),
            link: "http://127.0.0.1:8080/verify/abc_DEF-123".into(),
        };
        let text = email.text_body().unwrap();
        assert!(text.contains("http://127.0.0.1:8080/verify/abc_DEF-123\n"));
        assert!(
            text.contains("<b>Amy</b>"),
            "plain text is not HTML-escaped"
        );
        let html = email.html_body().unwrap();
        assert!(html.contains("href=\"http://127.0.0.1:8080/verify/abc_DEF-123\""));
        assert!(html.contains("&#60;b&#62;Amy") || html.contains("&lt;b&gt;Amy"));
    }
}

/// A message to a patient from a workspace, signed with the sender's and the workspace's name.
/// The same fields make the text message.
pub struct PatientMessage {
    pub body: String,
    pub sender: String,
    pub workspace: String,
}
#[derive(Template)]
#[template(path = "emails/patient_message.txt")]
struct PatientMessageText<'a> {
    m: &'a PatientMessage,
}
#[derive(Template)]
#[template(path = "emails/patient_message.html")]
struct PatientMessageHtml<'a> {
    m: &'a PatientMessage,
}
email!(
    PatientMessage,
    PatientMessageText,
    PatientMessageHtml,
    |m| format!("Message from {}", m.workspace)
);

#[derive(Template)]
#[template(path = "sms/patient_message.txt")]
struct PatientMessageSms<'a> {
    m: &'a PatientMessage,
}

impl super::Sms for PatientMessage {
    fn text(&self) -> askama::Result<String> {
        Ok(PatientMessageSms { m: self }.render()?.trim().to_string())
    }
}

impl PatientMessage {
    /// The signature that ends a text message: "– Amy Okonkwo, Ward 2".
    pub fn signature(&self) -> String {
        format!("– {}, {}", self.sender, self.workspace)
    }
}
