//! `GET/POST /workspaces/{id}/members/{user_id}/end-date`: an admin moves a guest's last day, or
//! removes it. The decision is `services::guests::change_end`.

use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use crate::auth::permissions;
use crate::db::models::users::{self, User};
use crate::db::models::workspace_members;
use crate::db::models::workspaces::Workspace;
use crate::domain::{guest_end, UserId, WorkspaceId, WorkspaceRole};
use crate::error::{AppError, AppResult};
use crate::services::{guests, Actor, Decision};
use crate::web::context::Signed;
use crate::web::forms::{self, FormErrors};
use crate::web::layout::Layout;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EndForm {
    /// The guest's last day, YYYY-MM-DD, or the date input's three boxes; empty with
    /// `no_end=yes` removes the end date.
    last_day: String,
    #[serde(rename = "last_day-day")]
    last_day_day: String,
    #[serde(rename = "last_day-month")]
    last_day_month: String,
    #[serde(rename = "last_day-year")]
    last_day_year: String,
    /// "yes": no end date at all.
    no_end: String,
}

impl EndForm {
    fn typed(&self) -> String {
        forms::date_field(
            &self.last_day,
            &self.last_day_day,
            &self.last_day_month,
            &self.last_day_year,
        )
    }

    fn parts(&self) -> (String, String, String) {
        forms::date_parts(
            &self.last_day,
            &self.last_day_day,
            &self.last_day_month,
            &self.last_day_year,
        )
    }

    /// `Some(None)`: no end date; `Some(Some(day))`: that last day; `None`: refused.
    fn parse(&self, errors: &mut FormErrors) -> Option<Option<chrono::NaiveDate>> {
        if self.no_end == "yes" {
            return Some(None);
        }
        let typed = self.typed();
        if typed.trim().is_empty() {
            errors.add(
                "last_day",
                "Enter the guest's last day, or choose no end date",
            );
            return None;
        }
        errors
            .check(
                "last_day",
                guest_end::parse_last_day(&typed, Utc::now().date_naive()),
            )
            .map(Some)
    }
}

#[derive(Template)]
#[template(path = "workspaces/guest_end.html")]
struct EndPage {
    layout: Layout,
    errors: FormErrors,
    workspace: Workspace,
    guest: User,
    /// "31 March 2027", or `None` for no end date.
    current: Option<String>,
    form: EndForm,
}

async fn render(
    signed: &Signed,
    id: WorkspaceId,
    guest: UserId,
    errors: FormErrors,
    form: Option<EndForm>,
) -> AppResult<HttpResponse> {
    let page = signed
        .page(move |conn, frame| {
            let access = permissions::manage_members(conn, &frame.user, id)?;
            let membership = workspace_members::find(conn, id, guest)?
                .filter(|m| m.role == WorkspaceRole::Guest && m.is_approved())
                .ok_or(AppError::NotFound)?;
            Ok((access.workspace, membership, users::find(conn, guest)?))
        })
        .await?;
    let (workspace, membership, guest) = page.data;
    let last_day = membership.ends_at.map(guest_end::last_day);
    let form = form.unwrap_or_else(|| EndForm {
        last_day: last_day.map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string()),
        ..EndForm::default()
    });
    crate::web::render_with(
        errors.status(),
        &EndPage {
            layout: page.layout,
            errors,
            workspace,
            guest,
            current: last_day.map(|d| d.format("%-d %B %Y").to_string()),
            form,
        },
    )
}

pub async fn end_form(
    signed: Signed,
    path: web::Path<(WorkspaceId, UserId)>,
) -> AppResult<HttpResponse> {
    let (id, guest) = path.into_inner();
    render(&signed, id, guest, FormErrors::default(), None).await
}

pub async fn change_end(
    signed: Signed,
    path: web::Path<(WorkspaceId, UserId)>,
    form: web::Form<EndForm>,
) -> AppResult<HttpResponse> {
    let (id, guest) = path.into_inner();
    let form = form.into_inner();
    let mut errors = FormErrors::default();
    let Some(last_day) = form.parse(&mut errors) else {
        return render(&signed, id, guest, errors, Some(form)).await;
    };
    let ip = signed.ip.clone();
    let decision = signed
        .decide(move |conn, user| {
            guests::change_end(conn, &Actor::person(user, &ip), id, guest, last_day)
        })
        .await?;
    match decision {
        Decision::Done(message) => {
            signed.done(&message, &format!("/workspaces/{id}/settings/users"))
        }
        Decision::Refused(reason) => {
            errors.add("last_day", reason);
            render(&signed, id, guest, errors, Some(form)).await
        }
    }
}
