//! The request path: a refusal writes nothing, the session's expiry is written at most once a
//! minute, a terminated backend connection costs no error page, and the typed values round-trip
//! through their columns.

use diesel::{QueryDsl, RunQueryDsl, SelectableHelper};
use staffroom::db::models::audit::{self, NewAuditEvent};
use staffroom::db::models::workspace_members::Membership;
use staffroom::db::schema::{audit_events, workspace_members};
use staffroom::domain::{
    AuditAction, Channel, ConversationStatus, InvitePolicy, MemberAction, MembershipStatus,
    WorkspaceRole,
};
use staffroom::services::{self, Decision};

use crate::helpers::spawn_app;

#[actix_web::test]
async fn a_refused_decision_leaves_nothing_written() {
    let app = spawn_app().await;
    let before = app.count("SELECT count(*) FROM audit_events");

    let decision: Decision<()> = services::decide(&app.pool, |conn| {
        audit::record(conn, &NewAuditEvent::new(AuditAction::SignIn, None))?;
        Ok(Decision::refused("not today"))
    })
    .await
    .unwrap();

    assert_eq!(decision, Decision::Refused("not today".into()));
    assert_eq!(app.count("SELECT count(*) FROM audit_events"), before);

    // The same decision, done, commits what it wrote.
    let decision: Decision<()> = services::decide(&app.pool, |conn| {
        audit::record(conn, &NewAuditEvent::new(AuditAction::SignIn, None))?;
        Ok(Decision::Done(()))
    })
    .await
    .unwrap();
    assert_eq!(decision, Decision::Done(()));
    assert_eq!(app.count("SELECT count(*) FROM audit_events"), before + 1);
}

#[actix_web::test]
async fn a_refusal_on_a_page_rolls_back_and_says_why() {
    // The last admin of a workspace cannot demote themselves: the Users page says so, and the
    // workspace still has its admin.
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app
        .person(org, "amy.okonkwo@nhs.net", "Amy", "Okonkwo")
        .await;
    let created = amy
        .browser
        .submit(
            &format!("/organisations/{org}/workspaces"),
            &format!("/organisations/{org}/workspaces"),
            &[
                ("name", "Ward 2 Nurses"),
                ("specialty", "100"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let ws = app.text("SELECT id FROM workspaces WHERE name = 'Ward 2 Nurses'");
    let users_page = format!("/workspaces/{ws}/settings/users");

    let refused = amy
        .browser
        .submit(
            &users_page,
            &format!("/workspaces/{ws}/members/{}/role", amy.user.id),
            &[("role", "member")],
        )
        .await;

    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("only admin"), "{}", refused.body);
    assert_eq!(
        app.text(&format!(
            "SELECT role FROM workspace_members WHERE workspace_id = '{ws}'"
        )),
        "admin"
    );
}

#[actix_web::test]
async fn the_session_expiry_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app
        .person(org, "amy.okonkwo@nhs.net", "Amy", "Okonkwo")
        .await;
    let expiry = || {
        app.text(&format!(
            "SELECT expires_at FROM sessions WHERE user_id = '{}'",
            amy.user.id
        ))
    };
    assert_eq!(amy.browser.get("/").await.status, 200);
    let first = expiry();

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(amy.browser.get("/").await.status, 200);
    assert_eq!(
        expiry(),
        first,
        "a second later the expiry is not written again"
    );

    // As if the last write were two minutes ago.
    app.sql(&format!(
        "UPDATE sessions SET expires_at = expires_at - interval '2 minutes' WHERE user_id = '{}'",
        amy.user.id
    ));
    let aged = expiry();
    assert_eq!(amy.browser.get("/").await.status, 200);
    let renewed = expiry();
    assert_ne!(renewed, aged);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM sessions WHERE user_id = '{}'
               AND expires_at > now() + interval '29 minutes'
               AND expires_at <= now() + interval '30 minutes'",
            amy.user.id
        )),
        1,
        "the idle expiry is 30 minutes from now again"
    );
}

#[actix_web::test]
async fn a_terminated_backend_connection_costs_no_error_page() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app
        .person(org, "amy.okonkwo@nhs.net", "Amy", "Okonkwo")
        .await;
    // Fill the app's pool with idle connections, then end every one of them.
    let warm: Vec<_> = (0..8).map(|_| amy.browser.get("/")).collect();
    for page in futures_util::future::join_all(warm).await {
        assert_eq!(page.status, 200);
    }
    let killed = app.count(&format!(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
          WHERE datname = '{}' AND pid <> pg_backend_pid()",
        app.text("current_database()")
    ));
    assert!(killed > 0, "the app held connections to terminate");

    for _ in 0..5 {
        let home = amy.browser.get("/").await;
        assert_eq!(home.status, 200, "{}", home.body);
        let anonymous = app.new_browser().get("/login").await;
        assert_eq!(anonymous.status, 200);
    }
    let invite = amy.browser.get("/workspaces").await;
    assert_eq!(invite.status, 200);
}

#[actix_web::test]
async fn each_enum_round_trips_through_its_column_and_refuses_an_unknown_value() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app.create_user(org, "amy.okonkwo@nhs.net");
    let conn = &mut *app.conn();

    // Every audit action is written and read back as itself.
    for action in AuditAction::ALL {
        audit::record(conn, &NewAuditEvent::new(*action, None)).unwrap();
    }
    let read: Vec<AuditAction> = audit_events::table
        .order(audit_events::id)
        .select(audit_events::action)
        .load(conn)
        .unwrap();
    assert!(AuditAction::ALL.iter().all(|a| read.contains(a)));

    // A membership's role and status.
    let ws = staffroom::domain::WorkspaceId::new();
    app.sql(&format!(
        "INSERT INTO workspaces (id, organisation_id, name, specialty_code, description)
         VALUES ('{ws}', '{org}', 'Ward 9', '100', '')"
    ));
    for role in WorkspaceRole::ALL {
        for status in MembershipStatus::ALL {
            diesel::delete(workspace_members::table)
                .execute(conn)
                .unwrap();
            staffroom::db::models::workspace_members::insert(
                conn, ws, amy.id, *status, *role, "", None,
            )
            .unwrap();
            let m: Membership = workspace_members::table
                .select(Membership::as_select())
                .first(conn)
                .unwrap();
            assert_eq!((m.role, m.status), (*role, *status));
        }
    }

    // The database itself refuses a code outside the set (its check constraints) ...
    let refused = diesel::sql_query("UPDATE workspace_members SET role = 'owner'").execute(conn);
    assert!(
        refused.is_err(),
        "the column's check constraint refuses an unknown role"
    );
    // ... and a code outside the set is an error when read, not a default.
    let text = |code: &str| diesel::dsl::sql::<diesel::sql_types::Text>(&format!("'{code}'"));
    assert!(diesel::select(text("owner"))
        .get_result::<WorkspaceRole>(conn)
        .is_err());
    assert!(diesel::select(text("maybe"))
        .get_result::<MembershipStatus>(conn)
        .is_err());
    assert!(diesel::select(text("made_up"))
        .get_result::<AuditAction>(conn)
        .is_err());
    assert_eq!(
        diesel::select(text("guest"))
            .get_result::<WorkspaceRole>(conn)
            .unwrap(),
        WorkspaceRole::Guest
    );

    // The other columns' enums, by value, and what a request may carry.
    for (codes, parse) in [
        (
            Channel::ALL.iter().map(|c| c.code()).collect::<Vec<_>>(),
            (|c: &str| Channel::parse(c).is_ok()) as fn(&str) -> bool,
        ),
        (InvitePolicy::ALL.iter().map(|c| c.code()).collect(), |c| {
            InvitePolicy::parse(c).is_ok()
        }),
        (
            ConversationStatus::ALL.iter().map(|c| c.code()).collect(),
            |c| ConversationStatus::parse(c).is_ok(),
        ),
        (MemberAction::ALL.iter().map(|c| c.code()).collect(), |c| {
            MemberAction::parse(c).is_ok()
        }),
    ] {
        assert!(codes.iter().all(|c| parse(c)));
        assert!(!parse("unknown"));
    }
    assert_eq!(
        diesel::select(text("sms"))
            .get_result::<Channel>(conn)
            .unwrap(),
        Channel::Sms
    );
    assert!(diesel::select(text("fax"))
        .get_result::<Channel>(conn)
        .is_err());
    assert!(diesel::select(text("closed"))
        .get_result::<ConversationStatus>(conn)
        .is_err());
    assert!(diesel::select(text("everyone"))
        .get_result::<InvitePolicy>(conn)
        .is_err());
}

#[actix_web::test]
async fn an_unknown_member_action_in_the_path_is_not_found() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app
        .person(org, "amy.okonkwo@nhs.net", "Amy", "Okonkwo")
        .await;
    let ws = uuid::Uuid::new_v4();
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/members/{}/promote", amy.user.id),
            &[],
        )
        .await;
    assert_eq!(page.status, 404);
}

/// Frames are kept in memory and read again only when their version moves: a change written
/// by anyone (here straight into the database, as another server would) shows on the very
/// next page, and so does a membership that ends with nothing written.
#[actix_web::test]
async fn a_kept_frame_never_outlives_a_change_or_an_ending_membership() {
    let app = spawn_app().await;
    let org = app.nhs_org();
    let amy = app
        .person(org, "amy.okonkwo@nhs.net", "Amy", "Okonkwo")
        .await;
    assert!(!amy
        .browser
        .get("/")
        .await
        .body
        .contains("Ward 7 Night Team"));

    let workspace = uuid::Uuid::new_v4();
    app.sql(&format!(
        "INSERT INTO workspaces (id, organisation_id, name, specialty_code, created_by)
         VALUES ('{workspace}', '{org}', 'Ward 7 Night Team', '950', '{amy}')",
        amy = amy.user.id
    ));
    app.sql(&format!(
        "INSERT INTO workspace_members (workspace_id, user_id, status, role, approved_at)
         VALUES ('{workspace}', '{}', 'approved', 'member', now())",
        amy.user.id
    ));
    assert!(
        amy.browser
            .get("/")
            .await
            .body
            .contains("Ward 7 Night Team"),
        "a new membership is in the switcher at once"
    );

    app.sql(&format!(
        "UPDATE workspaces SET name = 'Ward 7 Day Team' WHERE id = '{workspace}'"
    ));
    let home = amy.browser.get("/").await.body;
    assert!(home.contains("Ward 7 Day Team") && !home.contains("Ward 7 Night Team"));

    // A guest's end date: the frame is read again when it passes, with nothing written then.
    app.sql(&format!(
        "UPDATE workspace_members SET ends_at = now() + interval '2 seconds'
          WHERE workspace_id = '{workspace}'"
    ));
    assert!(amy.browser.get("/").await.body.contains("Ward 7 Day Team"));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(
        !amy.browser.get("/").await.body.contains("Ward 7 Day Team"),
        "an ended membership leaves the switcher when it ends"
    );

    app.sql(&format!(
        "UPDATE users SET deactivated_at = now() WHERE id = '{}'",
        amy.user.id
    ));
    let page = amy.browser.get("/").await;
    assert_eq!(
        page.status, 303,
        "a deactivated account is signed out at once"
    );
    assert!(page.location.unwrap_or_default().starts_with("/login"));
}

#[derive(diesel::QueryableByName)]
struct Echoed {
    #[diesel(sql_type = diesel::sql_types::Text)]
    said: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    prepared: i64,
}

/// `db::cached`: a raw statement is prepared once per connection and then only bound and run
/// again; its values travel as parameters, so none can reach the text (not even one that
/// closes the comment the placeholders sit in).
#[actix_web::test]
async fn a_cached_statement_is_prepared_once_per_connection_with_its_values_bound() {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let sql = "SELECT $1::text || '!' AS said,
                      (SELECT count(*) FROM pg_prepared_statements
                        WHERE statement LIKE 'SELECT $1::text || ''!'' AS said%') AS prepared";
    let run = |conn: &mut diesel::PgConnection, value: &str| -> Echoed {
        staffroom::db::cached::sql(sql)
            .bind::<diesel::sql_types::Text, _>(value.to_string())
            .get_result(conn)
            .unwrap()
    };
    let first = run(&mut conn, "hello");
    assert_eq!(first.said, "hello!");
    assert_eq!(first.prepared, 1, "prepared by diesel, by its text");
    let hostile = "*/ SELECT 1; -- '";
    let second = run(&mut conn, hostile);
    assert_eq!(second.said, format!("{hostile}!"));
    assert_eq!(
        second.prepared, 1,
        "the same statement again, not a second one"
    );
    drop(conn);
    app.stop().await;
}
