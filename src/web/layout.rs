//! What every page's layout needs: the CSRF token for its forms, who is signed in, the
//! workspace switcher (bottom left) with each workspace's status and the invitations waiting for
//! the user, the prompt admins see while people wait for approval, and a one-time confirmation
//! message; the header's links (Administration, Organisation settings) and, on a workspace's
//! pages, its sections (Conversations, Patients, Templates, Users, People, Settings, History)
//! with the current one marked.

use crate::auth::TypedSession;
use crate::db::models::frame;
use crate::db::models::users::User;
use crate::db::models::workspace_members::Membership;
use crate::db::models::workspaces::Workspace;
use crate::domain::{WorkspaceId, WorkspaceRole};
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
    /// The header's "Organisation settings" link, for trust administrators.
    pub org_settings_href: Option<String>,
    /// The path of the page (no query), to mark the current link in the header.
    pub path: String,
    /// On a page of one of the user's workspaces: its sections.
    pub sections: Option<Sections>,
}

/// A workspace's sections, one click away from each of its pages.
pub struct Sections {
    pub workspace: String,
    pub links: Vec<SectionLink>,
}

pub struct SectionLink {
    pub label: &'static str,
    pub href: String,
    /// The page is this section (or within it).
    pub current: bool,
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

/// One line of the switcher: "My Workspace" (id "personal") or a workspace with its status
/// and the person's role there.
#[derive(Clone)]
pub struct SwitcherItem {
    pub id: String,
    pub name: String,
    pub status: Option<&'static str>,
    /// "Admin", "Member", "Guest"; `None` for My Workspace.
    pub role: Option<&'static str>,
    pub pending: bool,
    /// An approved member who is not a guest: sees the workspace's settings and history.
    pub colleague: bool,
    pub current: bool,
}

impl SwitcherItem {
    /// What the switcher says beside the name: the role, or that approval is awaited.
    pub fn tag(&self) -> Option<&'static str> {
        if self.pending {
            Some("Pending approval")
        } else {
            self.role
        }
    }
}

/// "2 people waiting for approval in Ward 2", linking to the first workspace's Users page.
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
    pub org_settings_href: Option<String>,
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
            role: None,
            pending: false,
            colleague: false,
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
                role: Some(mine.membership.role.label()),
                pending: !mine.membership.is_approved(),
                colleague: mine.membership.is_approved()
                    && mine.membership.role != WorkspaceRole::Guest,
                current: current
                    .as_ref()
                    .is_some_and(|(c, _)| c.id == mine.workspace.id),
            }
        }));
        let waiting: i64 = frame.pending.iter().map(|(_, n)| n).sum();
        let name_of = |id: &WorkspaceId| {
            frame
                .workspaces
                .iter()
                .find(|mine| mine.workspace.id == *id)
                .map_or_else(String::new, |mine| mine.workspace.name.clone())
        };
        let prompt = frame.pending.first().map(|(first, _)| Prompt {
            text: format!(
                "{waiting} {} waiting for approval in {}{}",
                if waiting == 1 { "person" } else { "people" },
                name_of(first),
                match frame.pending.len() {
                    1 => String::new(),
                    2 => " and 1 other workspace".to_string(),
                    n => format!(" and {} other workspaces", n - 1),
                }
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
            org_settings_href: frame
                .administration
                .as_ref()
                .filter(|held| held.manage_users || held.manage_workspaces)
                .map(|held| format!("/organisations/{}/settings", held.organisation_id)),
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
    } else if held.manage_workspaces {
        // Teams, the one part of Administration that "manage workspaces" alone opens.
        return Some(format!("/organisations/{}/teams", held.organisation_id));
    } else {
        return None;
    };
    Some(format!(
        "/organisations/{}/admin/{page}",
        held.organisation_id
    ))
}

impl Layout {
    /// The page is one of Administration's (`/organisations/{id}/admin/...`).
    pub fn in_administration(&self) -> bool {
        self.path.starts_with("/organisations/") && self.path.contains("/admin/")
    }

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
            org_settings_href: None,
            path: String::new(),
            sections: None,
        }
    }

    pub fn anonymous(session: &TypedSession) -> AppResult<Self> {
        Ok(Self {
            csrf_token: session.csrf_token()?,
            flash: session.take_flash(),
            ..Self::bare()
        })
    }

    /// `path` is the page's (no query): it marks the current link and section.
    pub fn signed_in(
        session: &TypedSession,
        user: &User,
        nav: &Navigation,
        path: &str,
    ) -> AppResult<Self> {
        Ok(Self {
            sections: sections(nav, path),
            org_settings_href: nav.org_settings_href.clone(),
            path: path.to_string(),
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

/// The sections of the workspace whose page this is (`/workspaces/{id}/...`, or the home page
/// of the current workspace), as far as the person's membership reaches: every member has
/// conversations, patients, templates and the Users page; settings and history are for
/// approved colleagues.
fn sections(nav: &Navigation, path: &str) -> Option<Sections> {
    let item = match path.strip_prefix("/workspaces/") {
        Some(rest) => {
            let id = rest.split('/').next()?;
            nav.items.iter().find(|i| i.id == id && i.role.is_some())?
        }
        None if path == "/" => nav.items.iter().find(|i| i.current && i.role.is_some())?,
        None => return None,
    };
    let base = format!("/workspaces/{}", item.id);
    let mut links = vec![
        ("Conversations", format!("{base}/conversations"), true),
        ("Patients", format!("{base}/patients"), true),
        ("Templates", format!("{base}/templates"), true),
        ("Users", format!("{base}/settings/users"), true),
        ("People", format!("{base}/people"), item.colleague),
        ("Settings", format!("{base}/settings"), item.colleague),
        ("History", format!("{base}/history"), item.colleague),
    ];
    links.retain(|(_, _, shown)| *shown);
    // The longest matching prefix wins: /settings/users is Users, not Settings.
    let current = links
        .iter()
        .map(|(_, href, _)| href)
        .filter(|href| {
            path == href.as_str()
                || path.starts_with(&format!("{href}/"))
                || path.starts_with(&format!("{href}."))
        })
        .max_by_key(|href| href.len())
        .cloned();
    let links = links
        .into_iter()
        .map(|(label, href, _)| SectionLink {
            label,
            current: current.as_ref() == Some(&href),
            href,
        })
        .collect();
    Some(Sections {
        workspace: item.name.clone(),
        links,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nav(colleague: bool) -> Navigation {
        Navigation {
            items: vec![SwitcherItem {
                id: "w1".into(),
                name: "Ward 2".into(),
                status: Some("Approved"),
                role: Some("Member"),
                pending: false,
                colleague,
                current: true,
            }],
            ..Default::default()
        }
    }

    fn current(s: &Sections) -> Vec<&str> {
        s.links
            .iter()
            .filter(|l| l.current)
            .map(|l| l.label)
            .collect()
    }

    #[test]
    fn the_users_page_is_the_users_section_not_settings() {
        let s = sections(&nav(true), "/workspaces/w1/settings/users").unwrap();
        assert_eq!(current(&s), ["Users"]);
        let s = sections(&nav(true), "/workspaces/w1/settings").unwrap();
        assert_eq!(current(&s), ["Settings"]);
        let s = sections(&nav(true), "/workspaces/w1/conversations/c9").unwrap();
        assert_eq!(current(&s), ["Conversations"]);
    }

    #[test]
    fn guests_and_pending_members_see_no_settings_or_history() {
        let s = sections(&nav(false), "/workspaces/w1/patients").unwrap();
        let labels: Vec<_> = s.links.iter().map(|l| l.label).collect();
        assert_eq!(labels, ["Conversations", "Patients", "Templates", "Users"]);
    }

    #[test]
    fn another_persons_workspace_or_my_workspace_has_no_sections() {
        assert!(sections(&nav(true), "/workspaces/w2/settings/users").is_none());
        assert!(sections(&nav(true), "/organisations").is_none());
        let mut personal = nav(true);
        personal.items[0].current = false;
        assert!(sections(&personal, "/").is_none());
        assert!(sections(&nav(true), "/").is_some());
    }
}
