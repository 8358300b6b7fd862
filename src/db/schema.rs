// @generated automatically by Diesel CLI.

diesel::table! {
    audit_events (id) {
        id -> Int8,
        occurred_at -> Timestamptz,
        actor_user_id -> Nullable<Uuid>,
        action -> Text,
        target_user_id -> Nullable<Uuid>,
        organisation_id -> Nullable<Uuid>,
        workspace_id -> Nullable<Uuid>,
        ip_address -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    contacts (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        first_name -> Text,
        surname -> Text,
        email -> Nullable<Text>,
        mobile -> Nullable<Text>,
        added_by -> Nullable<Uuid>,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    conversations (id) {
        id -> Uuid,
        workspace_id -> Uuid,
        patient_id -> Uuid,
        started_by -> Nullable<Uuid>,
        assigned_to -> Nullable<Uuid>,
        status -> Text,
        created_at -> Timestamptz,
        last_message_at -> Timestamptz,
        last_message_id -> Nullable<Int8>,
        done_at -> Nullable<Timestamptz>,
        done_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    frame_versions (user_id) {
        user_id -> Uuid,
        version -> Int8,
    }
}

diesel::table! {
    import_reports (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        created_by -> Uuid,
        created_at -> Timestamptz,
        report -> Text,
    }
}

diesel::table! {
    invitation_links (token_hash) {
        token_hash -> Text,
        invitation_id -> Uuid,
        created_at -> Timestamptz,
        is_reminder -> Bool,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    invitations (id) {
        id -> Uuid,
        workspace_id -> Uuid,
        email -> Nullable<Text>,
        mobile -> Nullable<Text>,
        role -> Text,
        invited_by -> Nullable<Uuid>,
        guest_until -> Nullable<Date>,
        created_at -> Timestamptz,
        sent_at -> Timestamptz,
        expires_at -> Timestamptz,
        reminded_at -> Nullable<Timestamptz>,
        outbox_id -> Nullable<Int8>,
        accepted_at -> Nullable<Timestamptz>,
        accepted_by -> Nullable<Uuid>,
        declined_at -> Nullable<Timestamptz>,
        rescinded_at -> Nullable<Timestamptz>,
        rescinded_by -> Nullable<Uuid>,
        superseded_at -> Nullable<Timestamptz>,
        new_invitation_asked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    message_templates (id) {
        id -> Uuid,
        workspace_id -> Nullable<Uuid>,
        owner_id -> Nullable<Uuid>,
        name -> Text,
        body -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    messages (id) {
        id -> Int8,
        conversation_id -> Uuid,
        workspace_id -> Uuid,
        sender_id -> Nullable<Uuid>,
        channel -> Text,
        recipient -> Text,
        body -> Text,
        template_id -> Nullable<Uuid>,
        outbox_id -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    one_time_tokens (id) {
        id -> Uuid,
        token_hash -> Text,
        purpose -> Text,
        user_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    organisation_domains (organisation_id, domain) {
        organisation_id -> Uuid,
        domain -> Text,
    }
}

diesel::table! {
    organisation_invitations (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        email -> Text,
        token_hash -> Text,
        invited_by -> Nullable<Uuid>,
        grade -> Nullable<Text>,
        roster_profile_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        accepted_by -> Nullable<Uuid>,
        superseded_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    organisation_members (organisation_id, user_id) {
        organisation_id -> Uuid,
        user_id -> Uuid,
        joined_at -> Timestamptz,
        suspended_at -> Nullable<Timestamptz>,
        suspended_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    organisation_removals (organisation_id, user_id) {
        organisation_id -> Uuid,
        user_id -> Uuid,
        removed_at -> Timestamptz,
        removed_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    organisations (id) {
        id -> Uuid,
        name -> Text,
        ods_code -> Nullable<Text>,
        members_may_create_workspaces -> Bool,
        created_at -> Timestamptz,
        sign_in_policy -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Int8,
        channel -> Text,
        recipient -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        created_at -> Timestamptz,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        locked_until -> Nullable<Timestamptz>,
        sent_at -> Nullable<Timestamptz>,
        failed_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    patients (id) {
        id -> Uuid,
        workspace_id -> Nullable<Uuid>,
        owner_id -> Nullable<Uuid>,
        nhs_number -> Text,
        first_name -> Text,
        surname -> Text,
        date_of_birth -> Date,
        mobile -> Nullable<Text>,
        email -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_by -> Nullable<Uuid>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> Uuid,
        user_id -> Uuid,
        code_hash -> Text,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    role_assignments (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        role_id -> Uuid,
        user_id -> Uuid,
        scope_workspace_id -> Nullable<Uuid>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    roles (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        name -> Text,
        built_in -> Bool,
        manage_users -> Bool,
        manage_roles -> Bool,
        import_users -> Bool,
        view_audit -> Bool,
        manage_workspaces -> Bool,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    roster_profiles (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        user_id -> Nullable<Uuid>,
        first_name -> Text,
        surname -> Text,
        grade -> Text,
        imported_by -> Nullable<Uuid>,
        imported_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (key_hash) {
        key_hash -> Text,
        user_id -> Nullable<Uuid>,
        state -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        sso_provider -> Nullable<Text>,
        sso_sid -> Nullable<Text>,
    }
}

diesel::table! {
    specialties (code) {
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    sso_logout_tokens (provider, jti) {
        provider -> Text,
        jti -> Text,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    team_invitations (team_id, invitation_id) {
        team_id -> Uuid,
        invitation_id -> Uuid,
        invited_by -> Nullable<Uuid>,
        invited_at -> Timestamptz,
    }
}

diesel::table! {
    team_members (team_id, user_id) {
        team_id -> Uuid,
        organisation_id -> Uuid,
        user_id -> Uuid,
        added_by -> Nullable<Uuid>,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    teams (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        name -> Text,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    throttles (key) {
        key -> Text,
        failures -> Int4,
        last_failure_at -> Timestamptz,
    }
}

diesel::table! {
    user_identities (id) {
        id -> Uuid,
        provider -> Text,
        subject -> Text,
        user_id -> Uuid,
        email -> Nullable<Text>,
        role_names -> Array<Nullable<Text>>,
        first_sign_in_at -> Timestamptz,
        last_sign_in_at -> Timestamptz,
    }
}

diesel::table! {
    user_totp (user_id) {
        user_id -> Uuid,
        secret -> Bytea,
        confirmed_at -> Nullable<Timestamptz>,
        last_step -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Uuid,
        email -> Text,
        first_name -> Text,
        surname -> Text,
        password_hash -> Nullable<Text>,
        email_verified_at -> Nullable<Timestamptz>,
        medical_secretary -> Bool,
        imported -> Bool,
        deactivated_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    workspace_contacts (workspace_id, contact_id) {
        workspace_id -> Uuid,
        contact_id -> Uuid,
        invitation_id -> Nullable<Uuid>,
        added_by -> Nullable<Uuid>,
        added_at -> Timestamptz,
    }
}

diesel::table! {
    workspace_join_links (workspace_id) {
        workspace_id -> Uuid,
        token_hash -> Text,
        approve_on_join -> Bool,
        expires_at -> Nullable<Timestamptz>,
        max_uses -> Nullable<Int4>,
        uses -> Int4,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        disabled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    workspace_members (workspace_id, user_id) {
        workspace_id -> Uuid,
        user_id -> Uuid,
        status -> Text,
        role -> Text,
        request_message -> Text,
        requested_at -> Timestamptz,
        approved_at -> Nullable<Timestamptz>,
        approved_by -> Nullable<Uuid>,
        invited_by -> Nullable<Uuid>,
        ends_at -> Nullable<Timestamptz>,
        end_warned_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    workspaces (id) {
        id -> Uuid,
        organisation_id -> Uuid,
        name -> Text,
        specialty_code -> Text,
        description -> Text,
        invite_policy -> Text,
        guests_allowed -> Bool,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
    }
}

diesel::joinable!(audit_events -> organisations (organisation_id));
diesel::joinable!(audit_events -> workspaces (workspace_id));
diesel::joinable!(contacts -> organisations (organisation_id));
diesel::joinable!(conversations -> patients (patient_id));
diesel::joinable!(conversations -> workspaces (workspace_id));
diesel::joinable!(frame_versions -> users (user_id));
diesel::joinable!(import_reports -> organisations (organisation_id));
diesel::joinable!(import_reports -> users (created_by));
diesel::joinable!(invitation_links -> invitations (invitation_id));
diesel::joinable!(invitations -> outbox (outbox_id));
diesel::joinable!(invitations -> workspaces (workspace_id));
diesel::joinable!(message_templates -> workspaces (workspace_id));
diesel::joinable!(messages -> message_templates (template_id));
diesel::joinable!(messages -> outbox (outbox_id));
diesel::joinable!(messages -> users (sender_id));
diesel::joinable!(messages -> workspaces (workspace_id));
diesel::joinable!(one_time_tokens -> users (user_id));
diesel::joinable!(organisation_domains -> organisations (organisation_id));
diesel::joinable!(organisation_invitations -> organisations (organisation_id));
diesel::joinable!(organisation_invitations -> roster_profiles (roster_profile_id));
diesel::joinable!(organisation_members -> organisations (organisation_id));
diesel::joinable!(organisation_removals -> organisations (organisation_id));
diesel::joinable!(patients -> workspaces (workspace_id));
diesel::joinable!(recovery_codes -> users (user_id));
diesel::joinable!(role_assignments -> organisations (organisation_id));
diesel::joinable!(role_assignments -> roles (role_id));
diesel::joinable!(role_assignments -> workspaces (scope_workspace_id));
diesel::joinable!(roles -> organisations (organisation_id));
diesel::joinable!(roster_profiles -> organisations (organisation_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(team_invitations -> invitations (invitation_id));
diesel::joinable!(team_invitations -> teams (team_id));
diesel::joinable!(team_members -> teams (team_id));
diesel::joinable!(teams -> organisations (organisation_id));
diesel::joinable!(user_identities -> users (user_id));
diesel::joinable!(user_totp -> users (user_id));
diesel::joinable!(workspace_contacts -> contacts (contact_id));
diesel::joinable!(workspace_contacts -> invitations (invitation_id));
diesel::joinable!(workspace_contacts -> workspaces (workspace_id));
diesel::joinable!(workspace_join_links -> users (created_by));
diesel::joinable!(workspace_join_links -> workspaces (workspace_id));
diesel::joinable!(workspace_members -> workspaces (workspace_id));
diesel::joinable!(workspaces -> organisations (organisation_id));
diesel::joinable!(workspaces -> specialties (specialty_code));
diesel::joinable!(workspaces -> users (created_by));

diesel::allow_tables_to_appear_in_same_query!(
    audit_events,
    contacts,
    conversations,
    frame_versions,
    import_reports,
    invitation_links,
    invitations,
    message_templates,
    messages,
    one_time_tokens,
    organisation_domains,
    organisation_invitations,
    organisation_members,
    organisation_removals,
    organisations,
    outbox,
    patients,
    recovery_codes,
    role_assignments,
    roles,
    roster_profiles,
    sessions,
    specialties,
    sso_logout_tokens,
    team_invitations,
    team_members,
    teams,
    throttles,
    user_identities,
    user_totp,
    users,
    workspace_contacts,
    workspace_join_links,
    workspace_members,
    workspaces,
);
