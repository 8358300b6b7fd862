//! `GET /workspaces/{id}/conversations?assigned=me|unassigned|{user_id}&status=open|done`:
//! the workspace's conversations, newest first, a page at a time. Approved colleagues see all of
//! them, pending members the ones they sent in, guests the ones assigned to them: the rule is in
//! the query (`conversations::Visibility`), not in the template.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::conversations::{self, Assigned, Cursor, Filter};
use crate::db::models::messages;
use crate::db::models::patients;
use crate::db::models::workspace_members;
use crate::db::models::workspaces::Workspace;
use crate::domain::{ConversationStatus, PatientId, UserId, WorkspaceId, WorkspaceRole};
use crate::error::AppResult;
use crate::web::context::Signed;
use crate::web::layout::Layout;

/// Conversations on one page.
pub const PAGE: i64 = 25;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    assigned: String,
    status: String,
    before: String,
    /// Part of a colleague's name: the filter lists the colleagues it matches.
    colleague: String,
}

/// The "Assigned to" filter lists at most this many colleagues; a search finds the others.
const COLLEAGUES_SHOWN: i64 = 20;

/// One line of the list.
pub struct Row {
    pub id: String,
    pub patient: String,
    pub nhs_number: String,
    pub latest: String,
    pub sender: String,
    pub channel: &'static str,
    pub delivery: &'static str,
    pub assigned: String,
    pub open: bool,
    pub when: String,
}

/// A colleague in the "Assigned to" filter.
pub struct Colleague {
    pub id: String,
    pub name: String,
    pub guest: bool,
}

#[derive(Template)]
#[template(path = "conversations/list.html")]
struct ListPage {
    layout: Layout,
    workspace: Workspace,
    shares: bool,
    pending: bool,
    guest: bool,
    may_invite: bool,
    /// "", "me", "unassigned" or a colleague's id.
    assigned: String,
    /// "", "open" or "done".
    status: String,
    filter_label: String,
    colleagues: Vec<Colleague>,
    /// The search that narrowed `colleagues`, and whether more than were listed matched.
    colleague: String,
    more_colleagues: bool,
    rows: Vec<Row>,
    /// The link to the next (older) page, if there is one.
    older: Option<String>,
    paged: bool,
}

impl ListPage {
    /// A filter link keeping the other filter.
    fn link(&self, assigned: &str, status: &str) -> String {
        let mut pairs = Vec::new();
        if !assigned.is_empty() {
            pairs.push(("assigned", assigned));
        }
        if !status.is_empty() {
            pairs.push(("status", status));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        let base = format!("/workspaces/{}/conversations", self.workspace.id);
        if query.is_empty() {
            base
        } else {
            format!("{base}?{query}")
        }
    }
}

fn excerpt(body: &str) -> String {
    let line = body.lines().next().unwrap_or("");
    let short: String = line.chars().take(80).collect();
    if short.len() < body.len() {
        format!("{short}…")
    } else {
        short
    }
}

pub async fn conversations_page(
    signed: Signed,
    id: web::Path<WorkspaceId>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let (id, query) = (id.into_inner(), query.into_inner());
    let me = signed.id();
    let assigned = match query.assigned.as_str() {
        "me" => Assigned::To(me),
        "unassigned" => Assigned::Unassigned,
        other => other
            .parse::<UserId>()
            .map_or(Assigned::Anyone, Assigned::To),
    };
    let status = ConversationStatus::parse(&query.status).ok();
    let before = Cursor::decode(&query.before);
    let filter = Filter {
        assigned,
        status,
        before,
    };
    let search = query.colleague.clone();
    let page = signed
        .page(move |conn, frame| {
            let access = permissions::use_conversations(conn, &frame.user, id)?;
            // The colleague the list is filtered by is always listed, to be named.
            let always: Vec<UserId> = match assigned {
                Assigned::To(who) => vec![who],
                _ => Vec::new(),
            };
            let (members, more_colleagues) = if access.shares() {
                workspace_members::assignable(conn, id, &search, &always, COLLEAGUES_SHOWN)?
            } else {
                (Vec::new(), false)
            };
            let found = conversations::page(conn, id, access.visibility, filter, PAGE + 1)?;
            let patient_ids: Vec<PatientId> = found.iter().map(|c| c.patient_id).collect();
            let message_ids: Vec<i64> = found.iter().filter_map(|c| c.last_message_id).collect();
            let people: Vec<UserId> = found.iter().filter_map(|c| c.assigned_to).collect();
            Ok((
                access,
                (members, more_colleagues),
                found,
                patients::by_ids(conn, &patient_ids)?,
                messages::by_ids(conn, &message_ids)?,
                conversations::names(conn, &people)?,
            ))
        })
        .await?;
    let (access, (members, more_colleagues), found, patients, latest, names) = page.data;
    let patients: HashMap<_, _> = patients.into_iter().map(|p| (p.id, p)).collect();
    let latest: HashMap<_, _> = latest.into_iter().map(|m| (m.message.id, m)).collect();
    let names: HashMap<_, _> = names.into_iter().collect();
    let more = found.len() as i64 > PAGE;
    let shown = &found[..found.len().min(PAGE as usize)];
    let rows = shown
        .iter()
        .map(|c| {
            let patient = patients.get(&c.patient_id);
            let message = c.last_message_id.and_then(|m| latest.get(&m));
            Row {
                id: c.id.to_string(),
                patient: patient.map(|p| p.full_name()).unwrap_or_default(),
                nhs_number: patient.map(|p| p.nhs_number_spaced()).unwrap_or_default(),
                latest: message
                    .map(|m| excerpt(&m.message.body))
                    .unwrap_or_default(),
                sender: message
                    .and_then(|m| m.sender.clone())
                    .unwrap_or_else(|| "A former member".into()),
                channel: message.map_or("", |m| m.message.channel_label()),
                delivery: message.map_or("", |m| m.delivery),
                assigned: match c.assigned_to {
                    None => "Unassigned".into(),
                    Some(who) if who == me => "You".into(),
                    Some(who) => names.get(&who).cloned().unwrap_or_default(),
                },
                open: c.is_open(),
                when: super::when(c.last_message_at),
            }
        })
        .collect();
    let filter_label = match assigned {
        Assigned::Anyone => "Anyone".to_string(),
        Assigned::Unassigned => "Unassigned".to_string(),
        Assigned::To(who) if who == me => "Me".to_string(),
        // Named only if they are in this workspace: any other id names nobody.
        Assigned::To(who) => members
            .iter()
            .find(|(_, u)| u.id == who)
            .map_or_else(|| "Nobody in this workspace".into(), |(_, u)| u.full_name()),
    };
    let page = ListPage {
        layout: page.layout,
        shares: access.shares(),
        pending: access.access.is_pending(),
        guest: access.access.is_approved() && !access.shares(),
        may_invite: permissions::may_invite(&access.access),
        workspace: access.access.workspace.clone(),
        assigned: query.assigned.clone(),
        status: status.map_or_else(String::new, |s| s.code().to_string()),
        filter_label,
        colleagues: members
            .iter()
            .filter(|(_, u)| u.id != me)
            .map(|(m, u)| Colleague {
                id: u.id.to_string(),
                name: u.full_name(),
                guest: m.role == WorkspaceRole::Guest,
            })
            .collect(),
        colleague: query.colleague.clone(),
        more_colleagues,
        rows,
        older: None,
        paged: before.is_some(),
    };
    let older = if more {
        shown.last().map(|c| {
            let cursor = Cursor {
                at: c.last_message_at,
                id: c.id,
            }
            .encode();
            let link = page.link(&query.assigned, &page.status);
            let joiner = if link.contains('?') { '&' } else { '?' };
            format!("{link}{joiner}before={cursor}")
        })
    } else {
        None
    };
    crate::web::render(&ListPage { older, ..page })
}
