//! Conversations with patients: patient lists (NHS number check digit), templates, sending by
//! text message and email through the outbox, the Conversations page and its filters as an
//! approved member, a pending member and a guest, assigning, marking done, leaving, 404 for
//! another workspace's ids, and the list's indexes at 100,000 messages.

use crate::helpers::*;
use crate::workspaces::{create_workspace, join_approved};

const NHS_1: &str = "943 476 5919";
const NHS_2: &str = "9434765927";
const NHS_3: &str = "9434765935";

fn patients_page(ws: &str) -> String {
    format!("/workspaces/{ws}/patients")
}

fn list(ws: &str) -> String {
    format!("/workspaces/{ws}/conversations")
}

/// Adds a patient (to the workspace's list, or with `personal` to the person's own) and
/// returns their id.
pub(crate) async fn add_patient(
    app: &TestApp,
    person: &Person,
    ws: &str,
    nhs_number: &str,
    first_name: &str,
    personal: bool,
) -> String {
    let mut fields = vec![
        ("nhs_number", nhs_number),
        ("first_name", first_name),
        ("surname", "Patient"),
        ("date_of_birth", "1984-03-31"),
        ("mobile", "07700 900123"),
        ("email", "pat.patient@example.com"),
    ];
    if personal {
        fields.push(("personal", "on"));
    }
    person
        .browser
        .submit(&patients_page(ws), &patients_page(ws), &fields)
        .await
        .assert_redirect_to(&patients_page(ws));
    let digits: String = nhs_number.chars().filter(|c| c.is_ascii_digit()).collect();
    let owner = if personal {
        format!("owner_id = '{}'", person.user.id)
    } else {
        format!("workspace_id = '{ws}'")
    };
    app.text(&format!(
        "SELECT id FROM patients WHERE nhs_number = '{digits}' AND {owner}"
    ))
}

/// Sends a message and returns the conversation it landed in.
async fn send(person: &Person, ws: &str, patient: &str, channel: &str, body: &str) -> String {
    let page = person
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", patient),
                ("channel", channel),
                ("body", body),
            ],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location.unwrap();
    let prefix = format!("/workspaces/{ws}/conversations/");
    assert!(location.starts_with(&prefix), "{location}");
    location[prefix.len()..].to_string()
}

/// The conversation ids linked from a page of the list, in order.
fn listed(body: &str, ws: &str) -> Vec<String> {
    let marker = format!("href=\"/workspaces/{ws}/conversations/");
    body.match_indices(&marker)
        .map(|(i, _)| {
            body[i + marker.len()..]
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// A workspace with Amy (admin) and Dave (approved member).
async fn ward(app: &TestApp) -> (staffroom::domain::OrganisationId, Person, Person, String) {
    let org = app.nhs_org();
    let amy = app.person(org, "amy@nhs.net", "Amy", "Okonkwo").await;
    let dave = app.person(org, "dave@nhs.net", "Dave", "Patel").await;
    let ws = create_workspace(&amy, org, "Ward 2").await;
    join_approved(&amy, &dave, &ws).await;
    (org, amy, dave, ws)
}

#[actix_web::test]
async fn patients_are_added_with_a_valid_nhs_number_and_bad_values_are_refused_beside_their_fields()
{
    let app = spawn_app().await;
    let (_, amy, _, ws) = ward(&app).await;

    // A valid NHS number (written with spaces) is kept as its ten digits.
    let patient = add_patient(&app, &amy, &ws, NHS_1, "Pat", false).await;
    let page = amy.browser.get(&patients_page(&ws)).await;
    assert!(
        page.body.contains("Pat Patient added to the workspace"),
        "{}",
        page.body
    );
    assert!(page.body.contains("PATIENT, Pat"));
    assert!(page.body.contains("943 476 5919"));
    assert!(page
        .body
        .contains(&format!("/messages/new?patient_id={patient}")));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_events WHERE action = 'patient_added' AND actor_user_id = '{}' AND workspace_id = '{ws}'",
            amy.user.id
        )),
        1
    );

    // A wrong check digit, a landline, a bad email: each refused beside its field, what was
    // typed kept.
    let page = amy
        .browser
        .submit(
            &patients_page(&ws),
            &patients_page(&ws),
            &[
                ("nhs_number", "943 476 5918"),
                ("first_name", "Sam"),
                ("surname", "Smith"),
                ("date_of_birth", "1990-01-02"),
                ("mobile", "020 7946 0000"),
                ("email", "sam@"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"nhs_number-error\""));
    assert!(page.body.contains("Enter a valid NHS number"));
    assert!(page.body.contains("id=\"mobile-error\""));
    assert!(page.body.contains("Enter a UK mobile number"));
    assert!(page.body.contains("id=\"email-error\""));
    for kept in [
        "value=\"943 476 5918\"",
        "value=\"Sam\"",
        // The date of birth, in the date input's day, month and year boxes.
        "name=\"date_of_birth-day\" type=\"text\" inputmode=\"numeric\" value=\"2\"",
        "name=\"date_of_birth-year\" type=\"text\" inputmode=\"numeric\" value=\"1990\"",
        "value=\"020 7946 0000\"",
        "value=\"sam@\"",
    ] {
        assert!(page.body.contains(kept), "{kept} kept");
    }
    assert!(page.body.contains("<a href=\"#nhs_number\">"));

    // Nine digits, no contact at all, a date of birth in the future.
    let page = amy
        .browser
        .submit(
            &patients_page(&ws),
            &patients_page(&ws),
            &[
                ("nhs_number", "943476591"),
                ("first_name", "Sam"),
                ("surname", "Smith"),
                ("date_of_birth", "2999-01-01"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("Enter an NHS number with 10 digits"));
    assert!(page
        .body
        .contains("Enter a mobile number or an email address"));
    assert!(page.body.contains("id=\"date_of_birth-error\""));

    // The same NHS number twice in one list is refused; in a personal list it is fine.
    let page = amy
        .browser
        .submit(
            &patients_page(&ws),
            &patients_page(&ws),
            &[
                ("nhs_number", "9434765919"),
                ("first_name", "Pat"),
                ("surname", "Patient"),
                ("date_of_birth", "1984-03-31"),
                ("email", "pat@example.com"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("already in this list"));
    add_patient(&app, &amy, &ws, NHS_1, "Pat", true).await;
    assert_eq!(app.count("SELECT count(*) FROM patients"), 2);

    // A change to the record is audited with who made it.
    let record = format!("/workspaces/{ws}/patients/{patient}");
    let page = amy
        .browser
        .submit(
            &record,
            &record,
            &[
                ("nhs_number", NHS_1),
                ("first_name", "Pat"),
                ("surname", "Patient"),
                ("date_of_birth", "1984-03-31"),
                ("mobile", "07700 900456"),
                ("email", "pat.patient@example.com"),
            ],
        )
        .await;
    page.assert_redirect_to(&patients_page(&ws));
    assert_eq!(
        app.text(&format!(
            "SELECT mobile FROM patients WHERE id = '{patient}'"
        )),
        "+447700900456"
    );
    assert_eq!(
        app.text("SELECT detail FROM audit_events WHERE action = 'patient_changed'"),
        "Amy Okonkwo changed the mobile number of a patient (P P, born 1984) in the workspace's list",
        "the NHS number stays out of the organisation's audit"
    );
    // An invalid change is refused beside the field, nothing saved.
    let page = amy
        .browser
        .submit(
            &record,
            &record,
            &[
                ("nhs_number", "1234567890"),
                ("first_name", "Pat"),
                ("surname", "Patient"),
                ("date_of_birth", "1984-03-31"),
                ("email", "pat.patient@example.com"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("value=\"1234567890\""));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'patient_changed'"),
        1
    );
}

#[actix_web::test]
async fn messages_go_by_text_and_email_through_the_outbox_signed_and_join_one_conversation() {
    let app = spawn_app().await;
    let (_, amy, _, ws) = ward(&app).await;
    let patient = add_patient(&app, &amy, &ws, NHS_1, "Pat", false).await;

    // A text message: queued in the outbox, signed, shown in the conversation.
    let conversation = send(
        &amy,
        &ws,
        &patient,
        "sms",
        "Hello {first_name}, your results are back.",
    )
    .await;
    let sms = app
        .text("SELECT text_body FROM outbox WHERE channel = 'sms' AND recipient = '+447700900123'");
    assert_eq!(
        sms,
        "Hello Pat, your results are back.\n– Amy Okonkwo, Ward 2"
    );
    let page = amy
        .browser
        .get(&format!("/workspaces/{ws}/conversations/{conversation}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("Your text message to Pat Patient is on its way."));
    assert!(page.body.contains("Hello Pat, your results are back."));
    assert!(page
        .body
        .contains("Text message to +447700900123 from Amy Okonkwo"));
    assert_eq!(page.element_text("assigned-to"), "You");

    // An email to the same patient joins the open conversation and arrives over SMTP.
    let again = send(
        &amy,
        &ws,
        &patient,
        "email",
        "Dear {first_name} {surname},\nplease call us.",
    )
    .await;
    assert_eq!(again, conversation);
    let mail = app.smtp.wait_for("pat.patient@example.com").await;
    assert_eq!(mail.subject(), "Message from Ward 2");
    let body = mail.text().replace("\r\n", "\n");
    assert!(
        body.contains("Dear Pat Patient,\nplease call us."),
        "{body}"
    );
    assert!(body.contains("Amy Okonkwo\nWard 2"), "{body}");
    assert!(mail
        .part("text/html")
        .contains("Dear Pat Patient,<br>please call us."));

    // The text message is delivered by the worker (the default SMS transport keeps it for
    // /dev/mailbox) and the list shows the newest message with its delivery.
    for _ in 0..100 {
        if app.count("SELECT count(*) FROM outbox WHERE channel = 'sms' AND sent_at IS NOT NULL")
            == 1
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(app.count("SELECT count(*) FROM messages"), 2);
    assert_eq!(app.count("SELECT count(*) FROM conversations"), 1);
    let page = amy.browser.get(&list(&ws)).await;
    assert_eq!(listed(&page.body, &ws), vec![conversation.clone()]);
    assert!(page.body.contains("Dear Pat Patient,…"));
    assert!(page.body.contains("Email from Amy Okonkwo"));
    assert!(page.body.contains("Delivered"));

    // A template fills in the names; an empty message sends the template as it is.
    let templates = format!("/workspaces/{ws}/templates");
    amy.browser
        .submit(
            &templates,
            &templates,
            &[
                ("name", "Reminder"),
                ("body", "Hi {first_name}, see you tomorrow."),
                ("shared", "on"),
            ],
        )
        .await
        .assert_redirect_to(&templates);
    let template = app.text("SELECT id FROM message_templates");
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", &patient),
                ("channel", "sms"),
                ("body", ""),
                ("template_id", &template),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        app.text("SELECT body FROM messages ORDER BY id DESC LIMIT 1"),
        "Hi Pat, see you tomorrow."
    );

    // Too long for a text message, no message at all, a channel the patient cannot receive.
    let compose = format!("/workspaces/{ws}/messages/new?patient_id={patient}");
    let long = "x".repeat(600);
    let page = amy
        .browser
        .submit(
            &compose,
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", &patient),
                ("channel", "sms"),
                ("body", &long),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"body-error\""));
    assert!(page
        .body
        .contains("A text message can be at most 612 characters"));
    assert!(page.body.contains(&long), "the message is kept");
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[("patient_id", &patient), ("channel", "sms"), ("body", "  ")],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("Enter a message"));
    app.sql(&format!(
        "UPDATE patients SET email = NULL WHERE id = '{patient}'"
    ));
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", &patient),
                ("channel", "email"),
                ("body", "Hello"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"channel-error\""));
    assert!(page.body.contains("This patient has no email address"));
    assert_eq!(app.count("SELECT count(*) FROM messages"), 3);
}

#[actix_web::test]
async fn sending_writes_the_message_and_its_outbox_row_in_one_transaction() {
    let app = spawn_app().await;
    let (_, amy, _, ws) = ward(&app).await;
    let patient = add_patient(&app, &amy, &ws, NHS_1, "Pat", false).await;
    let outbox_before = app.count("SELECT count(*) FROM outbox");
    // The message row cannot be written: the outbox row and the conversation go with it.
    app.sql("ALTER TABLE messages ADD CONSTRAINT refuse_all CHECK (false) NOT VALID");
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", &patient),
                ("channel", "sms"),
                ("body", "Hello"),
            ],
        )
        .await;
    assert_eq!(page.status, 500);
    assert_eq!(app.count("SELECT count(*) FROM outbox"), outbox_before);
    assert_eq!(app.count("SELECT count(*) FROM conversations"), 0);
    app.sql("ALTER TABLE messages DROP CONSTRAINT refuse_all");
    send(&amy, &ws, &patient, "sms", "Hello").await;
    assert_eq!(app.count("SELECT count(*) FROM outbox"), outbox_before + 1);
}

#[actix_web::test]
async fn approved_members_see_every_conversation_pending_members_their_own_and_guests_what_is_assigned_to_them(
) {
    let app = spawn_app().await;
    let (org, amy, dave, ws) = ward(&app).await;
    let pam = app.person(org, "pam@nhs.net", "Pam", "Pending").await;
    let gus = app.person(org, "gus@nhs.net", "Gus", "Guest").await;
    pam.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await
        .assert_redirect_to("/");
    join_approved(&amy, &gus, &ws).await;
    app.sql(&format!(
        "UPDATE workspace_members SET role = 'guest' WHERE user_id = '{}'",
        gus.user.id
    ));

    let first = add_patient(&app, &amy, &ws, NHS_1, "Ann", false).await;
    let second = add_patient(&app, &dave, &ws, NHS_2, "Bob", false).await;
    let by_amy = send(&amy, &ws, &first, "sms", "From Amy").await;
    let by_dave = send(&dave, &ws, &second, "sms", "From Dave").await;

    // A pending member keeps a personal list and sends from the workspace; the workspace's
    // list is not theirs to see or add to.
    let page = pam.browser.get(&patients_page(&ws)).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("PATIENT, Ann"));
    let page = pam
        .browser
        .submit(
            &patients_page(&ws),
            &patients_page(&ws),
            &[
                ("nhs_number", NHS_3),
                ("first_name", "Cat"),
                ("surname", "Patient"),
                ("date_of_birth", "2001-05-06"),
                ("mobile", "07700900999"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"personal-error\""));
    assert!(page.body.contains("value=\"9434765935\""));
    let own = add_patient(&app, &pam, &ws, NHS_3, "Cat", true).await;
    let by_pam = send(&pam, &ws, &own, "sms", "From Pam").await;
    // ... and cannot write to a workspace patient.
    let page = pam
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[("patient_id", &first), ("channel", "sms"), ("body", "Hi")],
        )
        .await;
    assert_eq!(page.status, 404);

    // Approved: everything, newest first; the filters.
    let page = amy.browser.get(&list(&ws)).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        listed(&page.body, &ws),
        vec![by_pam.clone(), by_dave.clone(), by_amy.clone()]
    );
    assert!(page.body.contains("From Pam"));
    let colleagues = &page.body[page.body.find("id=\"colleagues\"").unwrap()..];
    let dave_at = colleagues.find("Dave Patel").unwrap();
    let gus_at = colleagues.find("Gus Guest").unwrap();
    let invite_at = colleagues
        .find(&format!(
            "href=\"/workspaces/{ws}/invitations/new\" id=\"invite-new\">Invite new</a>"
        ))
        .unwrap();
    assert!(dave_at < invite_at && gus_at < invite_at);
    assert!(
        !colleagues[..invite_at].contains("Pam Pending"),
        "pending people are not colleagues"
    );
    let filtered = |query: String| {
        let browser = &amy.browser;
        let ws = ws.clone();
        async move {
            listed(
                &browser.get(&format!("{}?{query}", list(&ws))).await.body,
                &ws,
            )
        }
    };
    assert_eq!(filtered("assigned=me".into()).await, vec![by_amy.clone()]);
    assert_eq!(
        filtered("assigned=unassigned".into()).await,
        vec![by_pam.clone()]
    );
    assert_eq!(
        filtered(format!("assigned={}", dave.user.id)).await,
        vec![by_dave.clone()]
    );
    assert_eq!(
        filtered(format!("assigned={}", gus.user.id)).await,
        Vec::<String>::new()
    );

    // Pending: only their own, in the list and by id.
    let page = pam.browser.get(&list(&ws)).await;
    assert_eq!(page.status, 200);
    assert_eq!(listed(&page.body, &ws), vec![by_pam.clone()]);
    assert!(!page.body.contains("From Dave"));
    assert!(!page.body.contains("id=\"colleagues\""));
    for other in [&by_amy, &by_dave] {
        let page = pam.browser.get(&format!("{}/{other}", list(&ws))).await;
        assert_eq!(page.status, 404);
    }

    // The guest: nothing until something is assigned to them.
    let page = gus.browser.get(&list(&ws)).await;
    assert_eq!(page.status, 200);
    assert!(listed(&page.body, &ws).is_empty());
    amy.browser
        .post(
            &format!("{}/{by_dave}/assign", list(&ws)),
            &[("user_id", &gus.user.id.to_string())],
        )
        .await
        .assert_redirect_to(&format!("{}/{by_dave}", list(&ws)));
    let page = gus.browser.get(&list(&ws)).await;
    assert_eq!(listed(&page.body, &ws), vec![by_dave.clone()]);
    assert!(!page.body.contains("From Amy"));
    assert_eq!(
        gus.browser
            .get(&format!("{}/{by_amy}", list(&ws)))
            .await
            .status,
        404
    );
    let page = gus.browser.get(&format!("{}/{by_dave}", list(&ws))).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.element_text("assigned-to"), "You");
    // The guest answers in the conversation assigned to them, but cannot assign it away nor
    // write to another workspace patient.
    assert_eq!(send(&gus, &ws, &second, "sms", "Gus here").await, by_dave);
    let page = gus
        .browser
        .post(
            &format!("{}/{by_dave}/assign", list(&ws)),
            &[("user_id", "")],
        )
        .await;
    assert_eq!(page.status, 404);
    let page = gus
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[("patient_id", &first), ("channel", "sms"), ("body", "Hi")],
        )
        .await;
    assert_eq!(page.status, 404);
    assert_eq!(
        gus.browser
            .get(&format!("/workspaces/{ws}/patients/{first}"))
            .await
            .status,
        404
    );

    // Someone in the organisation but not in the workspace sees nothing at all.
    let out = app.person(org, "olly@nhs.net", "Olly", "Outside").await;
    for path in [
        list(&ws),
        patients_page(&ws),
        format!("{}/{by_amy}", list(&ws)),
    ] {
        assert_eq!(out.browser.get(&path).await.status, 404, "{path}");
    }
}

#[actix_web::test]
async fn a_colleague_assigns_and_marks_done_and_the_next_message_opens_a_new_conversation() {
    let app = spawn_app().await;
    let (org, amy, dave, ws) = ward(&app).await;
    let pam = app.person(org, "pam@nhs.net", "Pam", "Pending").await;
    pam.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await;
    let patient = add_patient(&app, &amy, &ws, NHS_1, "Pat", false).await;
    let conversation = send(&amy, &ws, &patient, "sms", "Hello").await;
    let page_path = format!("{}/{conversation}", list(&ws));

    // Only approved members can be assignees.
    let page = amy
        .browser
        .post(
            &format!("{page_path}/assign"),
            &[("user_id", &pam.user.id.to_string())],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("id=\"user_id-error\""));
    assert!(page
        .body
        .contains("Choose someone who is an approved member"));

    amy.browser
        .post(
            &format!("{page_path}/assign"),
            &[("user_id", &dave.user.id.to_string())],
        )
        .await
        .assert_redirect_to(&page_path);
    let page = dave.browser.get(&page_path).await;
    assert_eq!(page.element_text("assigned-to"), "You");
    let page = amy.browser.get(&page_path).await;
    assert!(page.body.contains("Conversation assigned to Dave Patel."));
    assert_eq!(page.element_text("assigned-to"), "Dave Patel");
    let mine = dave
        .browser
        .get(&format!("{}?assigned=me", list(&ws)))
        .await;
    assert_eq!(listed(&mine.body, &ws), vec![conversation.clone()]);

    // Dave marks it done; the list says so; the next message opens a new conversation.
    dave.browser
        .post(&format!("{page_path}/done"), &[])
        .await
        .assert_redirect_to(&list(&ws));
    let page = dave.browser.get(&list(&ws)).await;
    assert!(page.body.contains("Conversation marked as done."));
    assert!(page.body.contains("nhsuk-tag--grey\">Done</strong>"));
    assert!(listed(
        &dave
            .browser
            .get(&format!("{}?status=open", list(&ws)))
            .await
            .body,
        &ws
    )
    .is_empty());
    let next = send(&amy, &ws, &patient, "sms", "One more thing").await;
    assert_ne!(next, conversation);
    assert_eq!(
        listed(&amy.browser.get(&list(&ws)).await.body, &ws),
        vec![next.clone(), conversation.clone()]
    );
    // Done twice is harmless.
    dave.browser
        .post(&format!("{page_path}/done"), &[])
        .await
        .assert_redirect_to(&list(&ws));
    assert!(dave
        .browser
        .get(&list(&ws))
        .await
        .body
        .contains("already done"));
    // A pending member cannot assign or close what they cannot see.
    let page = pam
        .browser
        .post(&format!("{}/{next}/done", list(&ws)), &[])
        .await;
    assert_eq!(page.status, 404);
    let page = pam
        .browser
        .post(&format!("{}/{next}/assign", list(&ws)), &[("user_id", "")])
        .await;
    assert_eq!(page.status, 404);
}

#[actix_web::test]
async fn another_workspaces_patient_or_conversation_answers_404() {
    let app = spawn_app().await;
    let (org, amy, _, ws) = ward(&app).await;
    // (The helper reads the first workspace in the switcher: this one sorts before "Ward 2".)
    let other = create_workspace(&amy, org, "Acute medical unit").await;
    assert_ne!(other, ws);
    let theirs = add_patient(&app, &amy, &other, NHS_1, "Pat", false).await;
    let their_conversation = send(&amy, &other, &theirs, "sms", "Hello").await;
    let ours = add_patient(&app, &amy, &ws, NHS_2, "Bob", false).await;
    send(&amy, &ws, &ours, "sms", "Hello").await;

    // Amy belongs to both, yet the other workspace's ids do not work through Ward 2's addresses.
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[("patient_id", &theirs), ("channel", "sms"), ("body", "Hi")],
        )
        .await;
    assert_eq!(page.status, 404);
    for path in [
        format!("/workspaces/{ws}/conversations/{their_conversation}"),
        format!("/workspaces/{ws}/patients/{theirs}"),
        format!("/workspaces/{ws}/messages/new?patient_id={theirs}"),
    ] {
        assert_eq!(amy.browser.get(&path).await.status, 404, "{path}");
    }
    for action in ["assign", "done"] {
        let page = amy
            .browser
            .post(
                &format!("/workspaces/{ws}/conversations/{their_conversation}/{action}"),
                &[("user_id", "")],
            )
            .await;
        assert_eq!(page.status, 404, "{action}");
    }
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/patients/{theirs}"),
            &[("nhs_number", NHS_1)],
        )
        .await;
    assert_eq!(page.status, 404);
    // Ids that are not ids, and a conversation that does not exist.
    assert_eq!(
        amy.browser
            .get(&format!("/workspaces/{ws}/conversations/nonsense"))
            .await
            .status,
        404
    );
    let page = amy
        .browser
        .post(
            &format!("/workspaces/{ws}/messages"),
            &[
                ("patient_id", "nonsense"),
                ("channel", "sms"),
                ("body", "Hi"),
            ],
        )
        .await;
    assert_eq!(page.status, 404);
    assert_eq!(
        app.count("SELECT count(*) FROM conversations WHERE status = 'done'"),
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM messages"), 2);
}

#[actix_web::test]
async fn conversations_of_someone_who_leaves_or_is_removed_stay_in_the_workspace_unassigned() {
    let app = spawn_app().await;
    let (org, amy, dave, ws) = ward(&app).await;
    let kim = app.person(org, "kim@nhs.net", "Kim", "Lee").await;
    join_approved(&amy, &kim, &ws).await;
    let first = add_patient(&app, &dave, &ws, NHS_1, "Ann", false).await;
    let second = add_patient(&app, &kim, &ws, NHS_2, "Bob", false).await;
    let by_dave = send(&dave, &ws, &first, "sms", "From Dave").await;
    let by_kim = send(&kim, &ws, &second, "email", "From Kim").await;

    dave.browser
        .post(&format!("/workspaces/{ws}/leave"), &[])
        .await;
    amy.browser
        .post(
            &format!("/workspaces/{ws}/members/{}/remove", kim.user.id),
            &[],
        )
        .await;
    assert_eq!(app.count("SELECT count(*) FROM workspace_members"), 1);

    let page = amy
        .browser
        .get(&format!("{}?assigned=unassigned", list(&ws)))
        .await;
    let mut unassigned = listed(&page.body, &ws);
    unassigned.sort();
    let mut expected = vec![by_dave.clone(), by_kim.clone()];
    expected.sort();
    assert_eq!(unassigned, expected);
    let page = amy.browser.get(&format!("{}/{by_kim}", list(&ws))).await;
    assert_eq!(page.element_text("assigned-to"), "Unassigned");
    assert!(page
        .body
        .contains("Email to pat.patient@example.com from Kim Lee"));
    // They no longer see any of it.
    assert_eq!(dave.browser.get(&list(&ws)).await.status, 404);
    assert_eq!(
        dave.browser
            .get(&format!("{}/{by_dave}", list(&ws)))
            .await
            .status,
        404
    );
    // Asking to join again (pending) does not bring back what they sent about the workspace's
    // patients: pending members see only conversations about their own patients.
    dave.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await
        .assert_redirect_to("/");
    assert!(listed(&dave.browser.get(&list(&ws)).await.body, &ws).is_empty());
    assert_eq!(
        dave.browser
            .get(&format!("{}/{by_dave}", list(&ws)))
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn with_100000_messages_each_filter_reads_its_index_and_the_page_stays_paged() {
    use staffroom::db::models::conversations::{self, Assigned, Filter, Visibility};

    let app = spawn_app().await;
    let (org, amy, dave, ws) = ward(&app).await;
    let pam = app.person(org, "pam@nhs.net", "Pam", "Pending").await;
    pam.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await;
    let patient = add_patient(&app, &amy, &ws, NHS_1, "Pat", false).await;
    let (amy_id, dave_id) = (amy.user.id, dave.user.id);

    // 20,000 conversations (one with this patient is open, the rest done), assigned to Amy,
    // Dave or nobody; then 100,000 messages, five in each, in one INSERT ... SELECT.
    app.sql(&format!(
        "INSERT INTO conversations (id, workspace_id, patient_id, started_by, assigned_to, status,
                                    created_at, last_message_at, done_at)
         SELECT md5('seed' || g)::uuid, '{ws}', '{patient}', '{amy_id}',
                CASE g % 3 WHEN 0 THEN NULL WHEN 1 THEN '{amy_id}'::uuid ELSE '{dave_id}'::uuid END,
                CASE WHEN g = 1 THEN 'open' ELSE 'done' END,
                now() - g * interval '1 minute', now() - g * interval '1 minute',
                CASE WHEN g = 1 THEN NULL ELSE now() END
         FROM generate_series(1, 20000) g"
    ));
    app.sql(&format!(
        "INSERT INTO messages (conversation_id, workspace_id, sender_id, channel, recipient, body, created_at)
         SELECT md5('seed' || (1 + (g - 1) / 5))::uuid, '{ws}',
                CASE WHEN g % 2 = 0 THEN '{amy_id}'::uuid ELSE '{dave_id}'::uuid END,
                'sms', '+447700900123', 'Seeded message ' || g, now() - g * interval '12 seconds'
         FROM generate_series(1, 100000) g"
    ));
    app.sql(
        "UPDATE conversations c SET last_message_id = m.id
         FROM (SELECT conversation_id, max(id) AS id FROM messages GROUP BY conversation_id) m
         WHERE m.conversation_id = c.id",
    );
    app.sql("ANALYZE patients, conversations, messages");
    assert_eq!(app.count("SELECT count(*) FROM messages"), 100000);

    // Each filter reads the index made for it, in the list's order (no sort of the whole set).
    let ws_id: staffroom::domain::WorkspaceId = ws.parse().unwrap();
    let mut conn = app.conn();
    let mut explain = |visibility, assigned| {
        conversations::explain_page(
            &mut conn,
            ws_id,
            visibility,
            Filter {
                assigned,
                status: None,
                before: None,
            },
            26,
        )
        .unwrap()
        .join("\n")
    };
    let cases = [
        (
            Visibility::All,
            Assigned::Anyone,
            "conversations_workspace_recent_idx",
        ),
        (
            Visibility::All,
            Assigned::To(amy_id),
            "conversations_assigned_recent_idx",
        ),
        (
            Visibility::All,
            Assigned::To(dave_id),
            "conversations_assigned_recent_idx",
        ),
        (
            Visibility::All,
            Assigned::Unassigned,
            "conversations_unassigned_recent_idx",
        ),
        (
            Visibility::AssignedTo(dave_id),
            Assigned::Anyone,
            "conversations_assigned_recent_idx",
        ),
    ];
    for (visibility, assigned, index) in cases {
        let plan = explain(visibility, assigned);
        assert!(plan.contains(index), "{visibility:?} {assigned:?}:\n{plan}");
        assert!(!plan.contains("Seq Scan on conversations"), "{plan}");
        assert!(!plan.contains("Sort"), "{plan}");
    }
    // A pending member's own conversations start from the messages they sent.
    let plan = explain(Visibility::SentBy(amy_id), Assigned::Anyone);
    assert!(plan.contains("messages_sender_idx"), "{plan}");
    assert!(!plan.contains("Seq Scan on messages"), "{plan}");
    drop(conn);

    // The page answers, 25 at a time, and "Older conversations" walks on without repeats.
    let page = amy.browser.get(&list(&ws)).await;
    assert_eq!(page.status, 200);
    let first_page = listed(&page.body, &ws);
    assert_eq!(first_page.len(), 25);
    let marker = "href=\"";
    let at = page.body.find("id=\"older\"").unwrap();
    let start = page.body[..at].rfind(marker).unwrap() + marker.len();
    let next_link = page.body[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let page = amy.browser.get(&next_link).await;
    assert_eq!(page.status, 200);
    let second_page = listed(&page.body, &ws);
    assert_eq!(second_page.len(), 25);
    assert!(second_page.iter().all(|c| !first_page.contains(c)));
    for query in [
        "assigned=me",
        "assigned=unassigned",
        &format!("assigned={dave_id}"),
        "status=open",
    ] {
        let page = amy.browser.get(&format!("{}?{query}", list(&ws))).await;
        assert_eq!(page.status, 200, "{query}");
        assert!(!listed(&page.body, &ws).is_empty(), "{query}");
    }
    // The pending member has sent nothing: an empty list, quickly.
    let page = pam.browser.get(&list(&ws)).await;
    assert_eq!(page.status, 200);
    assert!(listed(&page.body, &ws).is_empty());
}

/// Chooses the workspace in the switcher and opens the home page.
async fn home_of(person: &Person, ws: &str) -> Page {
    person
        .browser
        .post(&format!("/workspaces/{ws}/switch"), &[])
        .await
        .assert_redirect_to("/");
    let home = person.browser.get("/").await;
    assert_eq!(home.status, 200);
    home
}

#[actix_web::test]
async fn a_workspace_home_is_its_inbox_and_each_member_sees_only_what_is_theirs() {
    let app = spawn_app().await;
    let (org, amy, dave, ws) = ward(&app).await;
    let pam = app.person(org, "pam@nhs.net", "Pam", "Pending").await;
    let gus = app.person(org, "gus@nhs.net", "Gus", "Guest").await;
    join_approved(&amy, &gus, &ws).await;
    app.sql(&format!(
        "UPDATE workspace_members SET role = 'guest', ends_at = '2031-04-01T00:00:00Z'
          WHERE user_id = '{}'",
        gus.user.id
    ));
    let first = add_patient(&app, &amy, &ws, NHS_1, "Ann", false).await;
    let second = add_patient(&app, &dave, &ws, NHS_2, "Bob", false).await;
    let third = add_patient(&app, &dave, &ws, NHS_3, "Cat", false).await;
    let by_amy = send(&amy, &ws, &first, "sms", "From Amy about Ann").await;
    let by_dave = send(&dave, &ws, &second, "sms", "From Dave about Bob").await;
    let done = send(&dave, &ws, &third, "sms", "Cat is well").await;
    // One left for anyone, one closed: done conversations are not in the inbox.
    app.sql(&format!(
        "UPDATE conversations SET assigned_to = NULL WHERE id = '{by_dave}'"
    ));
    app.sql(&format!(
        "UPDATE conversations SET status = 'done', done_at = now() WHERE id = '{done}'"
    ));
    pam.browser
        .post(&format!("/workspaces/{ws}/join"), &[])
        .await
        .assert_redirect_to("/");

    // The admin: what is theirs, what nobody holds, who waits, the latest open ones.
    let home = home_of(&amy, &ws).await;
    assert_eq!(home.element_text("assigned-to-me"), "1 open");
    assert_eq!(home.element_text("unassigned"), "1 open");
    assert_eq!(home.element_text("waiting"), "1 person");
    assert_eq!(
        listed(&home.body, &ws),
        vec![by_dave.clone(), by_amy.clone()]
    );
    assert!(home.body.contains("From Amy about Ann"));
    assert!(home.body.contains("Assigned to you"));
    assert!(!home.body.contains("Cat is well"));

    // A member: the same inbox without the approval queue.
    let home = home_of(&dave, &ws).await;
    assert_eq!(home.element_text("assigned-to-me"), "0 open");
    assert_eq!(home.element_text("unassigned"), "1 open");
    assert!(!home.body.contains("id=\"waiting\""));
    assert!(home.body.contains("Assigned to Amy Okonkwo"));

    // The guest: only what is assigned to them, and the day their access ends.
    let home = home_of(&gus, &ws).await;
    assert_eq!(home.element_text("assigned-to-me"), "0 open");
    assert!(!home.body.contains("id=\"unassigned\""));
    assert!(listed(&home.body, &ws).is_empty());
    assert!(home.inner_text("guest-until").contains("31 March 2031"));
    app.sql(&format!(
        "UPDATE conversations SET assigned_to = '{}' WHERE id = '{by_dave}'",
        gus.user.id
    ));
    let home = gus.browser.get("/").await;
    assert_eq!(home.element_text("assigned-to-me"), "1 open");
    assert_eq!(listed(&home.body, &ws), vec![by_dave.clone()]);
    assert!(!home.body.contains("From Amy about Ann"));

    // Pending: told whose approval they wait for, and nothing of the workspace's.
    let home = home_of(&pam, &ws).await;
    assert!(home.body.contains("Your request to join Ward 2 is waiting"));
    assert!(!home.body.contains("id=\"inbox\""));
    assert!(listed(&home.body, &ws).is_empty());
}

#[actix_web::test]
async fn my_workspace_lists_your_own_patients_and_templates_and_opens_them_in_a_workspace() {
    let app = spawn_app().await;
    let (_org, _amy, dave, ws) = ward(&app).await;
    let own = add_patient(&app, &dave, &ws, NHS_3, "Cat", true).await;
    dave.browser
        .submit(
            &format!("/workspaces/{ws}/templates"),
            &format!("/workspaces/{ws}/templates"),
            &[
                ("name", "Clinic reminder"),
                ("body", "Dear {first_name}, see you soon"),
            ],
        )
        .await;
    dave.browser
        .post("/workspaces/personal/switch", &[])
        .await
        .assert_redirect_to("/");
    let home = dave.browser.get("/").await;
    assert!(home.body.contains(&format!(
        "href=\"/workspaces/{ws}/patients/{own}\">Cat Patient</a>"
    )));
    assert!(home
        .inner_text("personal-templates")
        .contains("Clinic reminder"));
}

#[actix_web::test]
async fn in_a_large_workspace_the_colleague_lists_show_a_few_and_a_search_finds_the_rest() {
    let app = spawn_app().await;
    let (org, amy, dave, ws) = ward(&app).await;
    // 80 more approved colleagues, all sorting before "Zara Zed".
    app.sql(
        "INSERT INTO users (id, email, first_name, surname, email_verified_at)
         SELECT md5('colleague' || g)::uuid, 'colleague' || g || '@nhs.net', 'Col', 'Aa' || g, now()
         FROM generate_series(1, 80) g",
    );
    app.sql(&format!(
        "INSERT INTO organisation_members (organisation_id, user_id)
         SELECT '{org}', md5('colleague' || g)::uuid FROM generate_series(1, 80) g"
    ));
    app.sql(&format!(
        "INSERT INTO workspace_members (workspace_id, user_id, status, role, approved_at)
         SELECT '{ws}', md5('colleague' || g)::uuid, 'approved', 'member', now()
         FROM generate_series(1, 80) g"
    ));
    let zara = app.person(org, "zara@nhs.net", "Zara", "Zed").await;
    join_approved(&amy, &zara, &ws).await;
    let patient = add_patient(&app, &amy, &ws, NHS_1, "Pat", false).await;
    let conversation = send(&amy, &ws, &patient, "sms", "Hello").await;
    let page_path = format!("{}/{conversation}", list(&ws));
    let option = |id: &str| format!("<option value=\"{id}\"");
    let zara_id = zara.user.id.to_string();

    // "Assign to" lists the first 50 by name, with the viewer, and a search past them.
    let page = amy.browser.get(&page_path).await;
    assert_eq!(page.body.matches("<option value=\"").count(), 1 + 51);
    assert!(page.body.contains(&option(&amy.user.id.to_string())));
    assert!(!page.body.contains(&option(&zara_id)));
    assert!(page.body.contains("id=\"find-colleague\""));
    let found = amy
        .browser
        .get(&format!("{page_path}?colleague=zara"))
        .await;
    assert!(
        found.body.contains(&option(&zara_id)),
        "the search finds her"
    );
    assert!(!found.body.contains(&option(&dave.user.id.to_string())));
    assert!(found.body.contains("value=\"zara\""), "the search is kept");

    // Once she holds it she is always listed, chosen, and the list's filter names her.
    amy.browser
        .post(&format!("{page_path}/assign"), &[("user_id", &zara_id)])
        .await
        .assert_redirect_to(&page_path);
    let page = amy.browser.get(&page_path).await;
    assert!(page
        .body
        .contains(&format!("{} selected>", option(&zara_id))));
    let filtered = amy
        .browser
        .get(&format!("{}?assigned={zara_id}", list(&ws)))
        .await;
    assert_eq!(listed(&filtered.body, &ws), vec![conversation.clone()]);
    assert!(filtered.body.contains("Zara Zed"));
    // The filter's own list: 20 colleagues and the one filtered by, not all 82.
    let all = amy.browser.get(&list(&ws)).await;
    let colleagues = all.inner_text("colleagues");
    assert!(colleagues.matches("Col Aa").count() <= 20, "{colleagues}");
    assert!(all.body.contains("id=\"find-colleague\""));
    let searched = amy
        .browser
        .get(&format!("{}?colleague=Aa7", list(&ws)))
        .await;
    let colleagues = searched.inner_text("colleagues");
    assert!(colleagues.contains("Col Aa7") && colleagues.contains("Col Aa70"));
    assert!(!colleagues.contains("Col Aa12"), "{colleagues}");
    app.stop().await;
}
