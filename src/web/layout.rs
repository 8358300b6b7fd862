//! What every page's layout needs: the CSRF token for its forms, who is signed in, the
//! workspace switcher (bottom left) with each workspace's status and the invitations waiting for
//! the user, the prompt admins see while people wait for approval, and a one-time confirmation
//! message.

use crate::auth::TypedSession;
use crate::db::models::frame;
use crate::db::models::users::User;
use crate::db::models::workspace_members::Membership;
use crate::db::models::workspaces::Workspace;
use crate::domain::WorkspaceId;
use crate::error::AppResult;

pub struct Layout {
    pub csrf_token: String,
    pub user: Option<NavUser>,
    pub flash: Option<String>,
    pub switcher: Vec<SwitcherItem>,
    pub prompt: Option<Prompt>,
    pub invitations: Vec<InvitationItem>,
    /// The header's "Administration" link, for those who administer an organisation.
    pub admin_href: Option<String>,
}

/// An invitation waiting for the signed-in person, with Join and Decline in the switcher.
#[derive(Clone)]
pub struct InvitationItem {
    pub id: String,
    pub workspace: String,
    pub inviter: String,
}

pub struct NavUser {
    pub name: String,
    pub email: String,
}

/// One line of the switcher: "My Workspace" (id "personal") or a workspace with its status.
#[derive(Clone)]
pub struct SwitcherItem {
    pub id: String,
    pub name: String,
    pub status: Option<&'static str>,
    pub pending: bool,
    pub current: bool,
}

/// "2 people waiting for approval", linking to the first workspace's Users page.
#[derive(Clone)]
pub struct Prompt {
    pub text: String,
    pub href: String,
}

/// The signed-in user's workspaces and what waits for them, read with the user.
#[derive(Clone, Default)]
pub struct Navigation {
    pub items: Vec<SwitcherItem>,
    pub prompt: Option<Prompt>,
    /// Open invitations to the user's verified address.
    pub invitations: Vec<InvitationItem>,
    /// The workspace chosen in the switcher, if it is still theirs; `None` is "My Workspace".
    pub current: Option<(Workspace, Membership)>,
    pub admin_href: Option<String>,
}

impl Navigation {
    /// The switcher, the prompt, the invitations and the Administration link, from the frame
    /// read with the user (`frame::load`), with `chosen` current if it is still theirs.
    pub fn from_frame(frame: &frame::Frame, chosen: Option<WorkspaceId>) -> Self {
        let current = chosen.and_then(|id| {
            frame
                .workspaces
                .iter()
                .find(|mine| mine.workspace.id == id)
                .map(|mine| (mine.workspace.clone(), mine.membership.clone()))
        });
        let mut items = vec![SwitcherItem {
            id: "personal".into(),
            name: "My Workspace".into(),
            status: None,
            pending: false,
            current: current.is_none(),
        }];
        items.extend(frame.workspaces.iter().map(|mine| {
            SwitcherItem {
                id: mine.workspace.id.to_string(),
                name: mine.workspace.name.clone(),
                status: Some(if mine.membership.is_approved() {
                    "Approved"
                } else {
                    "Pending approval"
                }),
                pending: !mine.membership.is_approved(),
                current: current
                    .as_ref()
                    .is_some_and(|(c, _)| c.id == mine.workspace.id),
            }
        }));
        let waiting: i64 = frame.pending.iter().map(|(_, n)| n).sum();
        let prompt = frame.pending.first().map(|(first, _)| Prompt {
            text: format!(
                "{waiting} {} waiting for approval",
                if waiting == 1 { "person" } else { "people" }
            ),
            href: format!("/workspaces/{first}/settings/users"),
        });
        let invitations = frame
            .invitations
            .iter()
            .map(|invitation| InvitationItem {
                id: invitation.id.to_string(),
                workspace: invitation.workspace.clone(),
                inviter: invitation
                    .inviter
                    .clone()
                    .unwrap_or_else(|| "A former member".into()),
            })
            .collect();
        Self {
            items,
            prompt,
            current,
            invitations,
            admin_href: frame.administration.as_ref().and_then(administration_home),
        }
    }
}

/// The first page of Administration that the roles held allow.
fn administration_home(held: &frame::Administration) -> Option<String> {
    let page = if held.manage_users {
        "users"
    } else if held.import_users {
        "import"
    } else if held.manage_roles {
        "roles"
    } else if held.view_audit {
        "audit"
    } else {
        return None;
    };
    Some(format!(
        "/organisations/{}/admin/{page}",
        held.organisation_id
    ))
}

impl Layout {
    /// For error pages, rendered without the request.
    pub fn bare() -> Self {
        Self {
            csrf_token: String::new(),
            user: None,
            flash: None,
            switcher: Vec::new(),
            prompt: None,
            invitations: Vec::new(),
            admin_href: None,
        }
    }

    pub fn anonymous(session: &TypedSession) -> AppResult<Self> {
        Ok(Self {
            csrf_token: session.csrf_token()?,
            flash: session.take_flash(),
            ..Self::bare()
        })
    }

    pub fn signed_in(session: &TypedSession, user: &User, nav: &Navigation) -> AppResult<Self> {
        Ok(Self {
            user: Some(NavUser {
                name: user.full_name(),
                email: user.email.clone(),
            }),
            switcher: nav.items.clone(),
            prompt: nav.prompt.clone(),
            invitations: nav.invitations.clone(),
            admin_href: nav.admin_href.clone(),
            ..Self::anonymous(session)?
        })
    }
}
