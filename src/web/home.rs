//! `GET /`: the home of the current workspace, which is its inbox (what is assigned to me, what
//! nobody holds yet, who waits for approval, the latest open conversations), or the personal
//! "My Workspace" (invitations waiting, your own patients and templates, your organisations).
//! Signed-out visitors are sent to sign in.

use actix_web::{web, HttpResponse};
use askama::Template;

use crate::db::models::conversations::{self, Inbox, InboxLine, INBOX_CAP};
use crate::db::models::message_templates::{self, MessageTemplate};
use crate::db::models::organisations::{self, Organisation};
use crate::db::models::patients::{self, List, Patient};
use crate::db::models::workspace_members::Membership;
use crate::db::models::workspaces::Workspace;
use crate::domain::{guest_end, UserId, WorkspaceRole};
use crate::error::AppResult;
use crate::web::context::Signed;
use crate::web::layout::Layout;

/// How many of the latest conversations, patients and templates the home lists.
const SHOWN: i64 = 5;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home_page));
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    first_name: String,
    /// The workspace chosen in the switcher; `None` is "My Workspace".
    workspace: Option<WorkspaceHome>,
    personal: PersonalHome,
}

/// A workspace's home: the inbox, for members who may see conversations.
struct WorkspaceHome {
    workspace: Workspace,
    me: UserId,
    role: WorkspaceRole,
    pending: bool,
    /// A guest's last day ("12 March 2027"): their membership ends after it.
    guest_until: Option<String>,
    inbox: Inbox,
}

impl WorkspaceHome {
    fn is_guest(&self) -> bool {
        self.role == WorkspaceRole::Guest
    }

    /// "3", or "99+" past the cap.
    fn count(&self, n: &i64) -> String {
        if *n > INBOX_CAP {
            format!("{INBOX_CAP}+")
        } else {
            n.to_string()
        }
    }

    /// "Assigned to you", "Assigned to Kim Lee", "Unassigned".
    fn assignee(&self, line: &InboxLine) -> String {
        match (&line.assignee, line.assigned_to) {
            (_, Some(who)) if who == self.me => "Assigned to you".into(),
            (Some(name), _) => format!("Assigned to {name}"),
            _ => "Unassigned".into(),
        }
    }

    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        crate::web::conversations::when(*at)
    }
}

/// My Workspace: what belongs to the person wherever they work.
#[derive(Default)]
struct PersonalHome {
    organisations: Vec<Organisation>,
    patients: Vec<Patient>,
    templates: Vec<MessageTemplate>,
    /// Where the personal lists open: a workspace the person is approved in.
    open_in: Option<String>,
}

/// The home's own queries: one statement for a workspace's inbox, three for My Workspace.
enum Loaded {
    Workspace(Inbox),
    Personal(PersonalHome),
}

async fn home_page(signed: Signed) -> AppResult<HttpResponse> {
    let page = signed
        .page(|conn, frame| match &frame.current {
            Some((workspace, membership)) if membership.is_approved() => {
                Ok(Loaded::Workspace(conversations::inbox(
                    conn,
                    workspace.id,
                    frame.user.id,
                    membership.role == WorkspaceRole::Guest,
                    membership.is_admin(),
                    SHOWN,
                )?))
            }
            // A pending member sees only that they wait.
            Some(_) => Ok(Loaded::Workspace(Inbox::default())),
            None => Ok(Loaded::Personal(PersonalHome {
                organisations: organisations::of_user(conn, frame.user.id)?,
                patients: patients::in_list(conn, List::Personal(frame.user.id), SHOWN + 1)?,
                templates: message_templates::personal(conn, frame.user.id, SHOWN + 1)?,
                open_in: None,
            })),
        })
        .await?;
    let open_in = page
        .layout
        .switcher
        .iter()
        .find(|item| item.role.is_some() && !item.pending)
        .map(|item| item.id.clone());
    let (workspace, personal) = match (page.current, page.data) {
        (Some((workspace, membership)), Loaded::Workspace(inbox)) => (
            Some(workspace_home(workspace, &membership, inbox, page.user.id)),
            PersonalHome::default(),
        ),
        (_, Loaded::Personal(personal)) => (
            None,
            PersonalHome {
                open_in,
                ..personal
            },
        ),
        (None, Loaded::Workspace(_)) => (None, PersonalHome::default()),
    };
    crate::web::render(&HomePage {
        layout: page.layout,
        first_name: page.user.first_name,
        workspace,
        personal,
    })
}

fn workspace_home(
    workspace: Workspace,
    membership: &Membership,
    inbox: Inbox,
    me: UserId,
) -> WorkspaceHome {
    WorkspaceHome {
        me,
        role: membership.role,
        pending: !membership.is_approved(),
        // Stored as the first moment without access; people are told their last day.
        guest_until: membership
            .ends_at
            .map(|at| guest_end::last_day(at).format("%-d %B %Y").to_string()),
        inbox,
        workspace,
    }
}
