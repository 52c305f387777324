//! Table definitions shared by both backends (portable column types only).

diesel::table! {
    units (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Text>,
        head_user_id -> Nullable<Text>,
        email -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        established_on -> Nullable<Date>,
        ended_on -> Nullable<Date>,
    }
}

diesel::table! {
    unit_closure (ancestor_id, descendant_id) {
        ancestor_id -> Text,
        descendant_id -> Text,
        depth -> Integer,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        full_name -> Text,
        email -> Nullable<Text>,
        role -> Text,
        unit_id -> Nullable<Text>,
        active -> Bool,
        password_hash -> Text,
        password_changed_at -> Timestamp,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        digest_daily_at -> Nullable<Text>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        client_addr -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> Text,
        username -> Text,
        client_addr -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        client_addr -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before -> Nullable<Text>,
        after -> Nullable<Text>,
        seal_mark -> BigInt,
    }
}

diesel::table! {
    reorganisations (id) {
        id -> Text,
        effective_on -> Date,
        basis_reference -> Text,
        basis_issued_on -> Nullable<Date>,
        basis_title -> Text,
        steps -> Text,
        outcome -> Text,
        applied_by -> Text,
        applied_at -> Timestamp,
    }
}

diesel::table! {
    unit_successors (unit_id, successor_id) {
        unit_id -> Text,
        successor_id -> Text,
        position -> Integer,
        reorganisation_id -> Nullable<Text>,
    }
}

diesel::table! {
    unit_history (unit_id, valid_until) {
        unit_id -> Text,
        valid_until -> Date,
        name -> Text,
        kind -> Text,
        parent_id -> Nullable<Text>,
        reorganisation_id -> Nullable<Text>,
    }
}

diesel::joinable!(users -> units (unit_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::table! {
    directives (id) {
        id -> Text,
        code -> Text,
        kind -> Text,
        title -> Text,
        issued_on -> Nullable<Date>,
        issuer -> Nullable<Text>,
        catalog_version -> Text,
        note -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    indicators (id) {
        id -> Text,
        directive_id -> Text,
        code -> Text,
        group_code -> Text,
        group_title -> Text,
        title -> Text,
        description -> Text,
        position -> Integer,
        retired -> Bool,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        title -> Text,
        kind -> Text,
        directive_id -> Text,
        starts_on -> Date,
        ends_on -> Date,
        status -> Text,
        lead_id -> Text,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    campaign_members (campaign_id, user_id) {
        campaign_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    campaign_targets (campaign_id, unit_id) {
        campaign_id -> Text,
        unit_id -> Text,
    }
}

diesel::table! {
    case_number_pool (year, number) {
        year -> Integer,
        number -> BigInt,
    }
}

diesel::table! {
    case_counters (year) {
        year -> Integer,
        last_number -> BigInt,
    }
}

diesel::table! {
    case_stats (indicator_id, detected_month, subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, decision_measure, shard) {
        indicator_id -> Text,
        detected_month -> Date,
        subject_unit_id -> Text,
        responsible_unit_id -> Text,
        campaign_id -> Text,
        directive_id -> Text,
        status -> Text,
        decision_measure -> Text,
        cases -> Integer,
        shard -> SmallInt,
    }
}

diesel::table! {
    status_stats (subject_unit_id, responsible_unit_id, campaign_id, directive_id, status, shard) {
        subject_unit_id -> Text,
        responsible_unit_id -> Text,
        campaign_id -> Text,
        directive_id -> Text,
        status -> Text,
        cases -> Integer,
        shard -> SmallInt,
    }
}

diesel::table! {
    subject_stats (subject_unit_id, subject_key) {
        subject_unit_id -> Text,
        subject_key -> Text,
        detected -> Integer,
        unhandled -> Integer,
    }
}

diesel::table! {
    responsible_subject_stats (responsible_unit_id, subject_key) {
        responsible_unit_id -> Text,
        subject_key -> Text,
        subject_unit_id -> Text,
        detected -> Integer,
        unhandled -> Integer,
    }
}

diesel::table! {
    cases (id) {
        id -> Text,
        number -> Text,
        campaign_id -> Text,
        directive_id -> Text,
        subject_kind -> Text,
        subject_unit_id -> Text,
        person_name -> Nullable<Text>,
        person_position -> Nullable<Text>,
        subject_key -> Text,
        title -> Text,
        description -> Text,
        detected_on -> Date,
        severity -> Text,
        status -> Text,
        responsible_unit_id -> Nullable<Text>,
        due_at -> Nullable<Timestamp>,
        deadline_at -> Nullable<Timestamp>,
        decision_measure -> Nullable<Text>,
        decision_decided_on -> Nullable<Date>,
        decision_reference -> Nullable<Text>,
        closed_at -> Nullable<Timestamp>,
        search_text -> Text,
        created_by -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        subject_id -> Nullable<Text>,
        body_name -> Nullable<Text>,
    }
}

diesel::table! {
    case_indicators (case_id, indicator_id) {
        case_id -> Text,
        indicator_id -> Text,
    }
}

diesel::table! {
    case_events (id) {
        id -> Text,
        case_id -> Text,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        kind -> Text,
        detail -> Text,
        seal_mark -> BigInt,
    }
}

diesel::table! {
    case_comments (id) {
        id -> Text,
        case_id -> Text,
        author_id -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    case_attachments (id) {
        id -> Text,
        case_id -> Text,
        uploaded_by -> Text,
        file_name -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        sha256 -> Text,
        created_at -> Timestamp,
        seal_mark -> BigInt,
    }
}

diesel::table! {
    calendar_days (day) {
        day -> Date,
        year -> Integer,
        kind -> Text,
        name -> Text,
        provisional -> Bool,
    }
}

diesel::table! {
    escalation_steps (case_id, deadline_at, level) {
        case_id -> Text,
        deadline_at -> Timestamp,
        level -> Text,
        fired -> Bool,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        recipient_email -> Text,
        recipient_name -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        message_id -> Text,
        subject -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        checkpoint_size -> Nullable<BigInt>,
    }
}

diesel::table! {
    alerts (id) {
        id -> Text,
        case_id -> Text,
        deadline_at -> Timestamp,
        level -> Text,
        recipient_user_id -> Nullable<Text>,
        recipient_email -> Text,
        recipient_name -> Text,
        outbox_id -> Text,
        status -> Text,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(alerts -> cases (case_id));
diesel::joinable!(alerts -> outbox (outbox_id));
diesel::joinable!(indicators -> directives (directive_id));
diesel::joinable!(campaigns -> directives (directive_id));
diesel::joinable!(campaign_members -> campaigns (campaign_id));
diesel::joinable!(campaign_targets -> campaigns (campaign_id));
diesel::joinable!(cases -> campaigns (campaign_id));
diesel::joinable!(case_indicators -> cases (case_id));
diesel::joinable!(case_indicators -> indicators (indicator_id));
diesel::joinable!(case_events -> cases (case_id));
diesel::joinable!(case_comments -> cases (case_id));
diesel::joinable!(case_attachments -> cases (case_id));

diesel::table! {
    attachment_files (sha256) {
        sha256 -> Text,
        content -> Binary,
        size_bytes -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    severity_levels (code) {
        code -> Text,
        name -> Text,
        name_en -> Text,
        rank -> Integer,
        aliases -> Text,
        basis -> Text,
        retired -> Bool,
    }
}

diesel::table! {
    measures (code) {
        code -> Text,
        name -> Text,
        name_en -> Text,
        system -> Text,
        applies_to -> Text,
        aliases -> Text,
        basis -> Text,
        valid_from -> Nullable<Date>,
        valid_until -> Nullable<Date>,
        position -> Integer,
        retired -> Bool,
    }
}

diesel::table! {
    handling_catalog (id) {
        id -> Integer,
        version -> Text,
        loaded_at -> Timestamp,
    }
}

diesel::table! {
    case_decisions (id) {
        id -> Text,
        case_id -> Text,
        system -> Text,
        authority -> Nullable<Text>,
        measure -> Text,
        decided_on -> Date,
        reference -> Nullable<Text>,
        note -> Nullable<Text>,
        corrects -> Nullable<Text>,
        superseded -> Bool,
        recorded_by -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    subjects (id) {
        id -> Text,
        kind -> Text,
        name -> Nullable<Text>,
        unit_id -> Text,
        position -> Nullable<Text>,
        categories -> Text,
        identifier -> Nullable<Text>,
        search_name -> Text,
        merged_into -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    subject_history (id) {
        id -> Text,
        subject_id -> Text,
        unit_id -> Text,
        position -> Nullable<Text>,
        ended_at -> Timestamp,
        changed_by -> Nullable<Text>,
    }
}

diesel::joinable!(case_decisions -> cases (case_id));
diesel::joinable!(subject_history -> subjects (subject_id));

diesel::table! {
    ledger (seq) {
        seq -> BigInt,
        stream -> Text,
        entry_id -> Text,
        mark -> BigInt,
        sealed_at -> Timestamp,
    }
}

diesel::table! {
    ledger_hashes (idx) {
        idx -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    ledger_checkpoints (size) {
        size -> BigInt,
        root -> Text,
        note -> Text,
        made_at -> Timestamp,
    }
}

diesel::table! {
    imports (id) {
        id -> Text,
        file_name -> Text,
        digest -> Text,
        imported_by -> Text,
        imported_at -> Timestamp,
        rows_read -> BigInt,
        cases_created -> BigInt,
        subjects_created -> BigInt,
        subjects_matched -> BigInt,
        decisions_created -> BigInt,
        already_imported -> BigInt,
        rows_skipped -> BigInt,
        encoding -> Nullable<Text>,
    }
}

diesel::table! {
    import_rows (row_key) {
        row_key -> Text,
        import_id -> Text,
        line -> BigInt,
        case_id -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    imports,
    import_rows,
    ledger,
    ledger_hashes,
    ledger_checkpoints,
    subjects,
    subject_history,
    severity_levels,
    measures,
    handling_catalog,
    case_decisions,
    attachment_files,
    calendar_days,
    directives,
    indicators,
    campaigns,
    campaign_members,
    campaign_targets,
    case_counters,
    case_number_pool,
    case_stats,
    status_stats,
    subject_stats,
    responsible_subject_stats,
    cases,
    case_indicators,
    case_events,
    case_comments,
    case_attachments,
    escalation_steps,
    outbox,
    alerts,
    units,
    unit_closure,
    unit_successors,
    unit_history,
    reorganisations,
    users,
    sessions,
    refresh_tokens,
    login_failures,
    audit_log,
);

// Reports group cases by indicator and status together.
diesel::allow_columns_to_appear_in_same_group_by_clause!(case_indicators::indicator_id, cases::status);
