// One schema for both backends: only types that SQLite and PostgreSQL share (Text, Integer,
// Bool, Timestamp). Kept by hand next to the two migration folders; `tests/` checks that the
// migrated databases match it.

diesel::table! {
    users (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        phone -> Nullable<Text>,
        password_hash -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    departments (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        area_code -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    role_assignments (id) {
        id -> Text,
        user_id -> Text,
        role -> Text,
        area_code -> Nullable<Text>,
        department_id -> Nullable<Text>,
        granted_by -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (key) {
        key -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        subject -> Text,
        detail -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    areas (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        level -> Text,
        parent_code -> Nullable<Text>,
        geometry -> Text,
        radius_m -> Nullable<Double>,
        area_m2 -> Double,
        content_hash -> Text,
        valid_from -> Timestamp,
        valid_to -> Nullable<Timestamp>,
    }
}

diesel::table! {
    area_cells (area_id, cell) {
        area_id -> Text,
        cell -> BigInt,
    }
}

diesel::table! {
    categories (code) {
        code -> Text,
        family -> Text,
        major_code -> Text,
        major_name -> Text,
        minor_code -> Text,
        minor_name -> Text,
        default_grade -> Text,
        deadlines -> Text,
        handler_kind -> Text,
        department_code -> Nullable<Text>,
        after_photo_required -> Bool,
        duplicate_radius_m -> Integer,
        active -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        category_code -> Text,
        grade -> Text,
        state -> Text,
        source -> Text,
        description -> Text,
        address -> Nullable<Text>,
        lat -> Double,
        lng -> Double,
        city_code -> Nullable<Text>,
        district_code -> Nullable<Text>,
        street_code -> Nullable<Text>,
        community_code -> Nullable<Text>,
        grid_code -> Nullable<Text>,
        compound_code -> Nullable<Text>,
        building_code -> Nullable<Text>,
        reporter_id -> Text,
        resolved_by -> Nullable<Text>,
        due_at -> Nullable<Timestamp>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        stage_started_at -> Nullable<Timestamp>,
        warned_at -> Nullable<Timestamp>,
        escalation_level -> Nullable<Text>,
        escalated_at -> Nullable<Timestamp>,
        late_stages -> Integer,
        rework_count -> Integer,
        log_head -> Nullable<Text>,
        extension_requested_at -> Nullable<Timestamp>,
        extension_count -> Integer,
        suggested_grade -> Nullable<Text>,
    }
}

diesel::table! {
    event_idempotency (user_id, key) {
        user_id -> Text,
        key -> Text,
        event_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_followers (event_id, user_id) {
        event_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_log (id) {
        id -> Text,
        event_id -> Text,
        actor_id -> Text,
        action -> Text,
        from_state -> Nullable<Text>,
        to_state -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
        actor_role -> Nullable<Text>,
        lat -> Nullable<Double>,
        lng -> Nullable<Double>,
        detail -> Nullable<Text>,
        seq -> Integer,
        hash -> Nullable<Text>,
        personal_salt -> Nullable<Text>,
        personal_commitment -> Nullable<Text>,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    worker_status (user_id) {
        user_id -> Text,
        on_duty -> Bool,
        lat -> Nullable<Double>,
        lng -> Nullable<Double>,
        cell -> Nullable<BigInt>,
        located_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    duty_periods (user_id, started_at) {
        user_id -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    location_pings (user_id, recorded_at) {
        user_id -> Text,
        recorded_at -> Timestamp,
        lat -> Double,
        lng -> Double,
        accuracy_m -> Nullable<Double>,
        received_at -> Timestamp,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        event_id -> Text,
        user_id -> Text,
        department_id -> Nullable<Text>,
        lead -> Bool,
        state -> Text,
        why -> Text,
        assigned_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    supervision_orders (id) {
        id -> Text,
        event_id -> Text,
        level -> Text,
        area_code -> Nullable<Text>,
        automatic -> Bool,
        reason -> Text,
        issued_by -> Text,
        created_at -> Timestamp,
        state -> Text,
        due_at -> Nullable<Timestamp>,
        reply -> Nullable<Text>,
        reply_evidence -> Text,
        replied_by -> Nullable<Text>,
        replied_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        send_back_reason -> Nullable<Text>,
        escalated_to -> Nullable<Text>,
    }
}

diesel::table! {
    event_links (event_id, other_id, kind) {
        event_id -> Text,
        other_id -> Text,
        kind -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        event_id -> Nullable<Text>,
        kind -> Text,
        payload -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        received_at -> Nullable<Timestamp>,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    devices (id) {
        id -> Text,
        user_id -> Text,
        session_id -> Nullable<Text>,
        fcm_token -> Text,
        platform -> Text,
        app_version -> Text,
        locale -> Text,
        active -> Bool,
        deactivated_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (notification_id, device_id) {
        notification_id -> Text,
        device_id -> Text,
        outcome -> Text,
        fcm_message -> Nullable<Text>,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    action_idempotency (user_id, key) {
        user_id -> Text,
        key -> Text,
        event_id -> Text,
        action -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    evidence_blobs (upload_sha256) {
        upload_sha256 -> Text,
        sha256 -> Text,
        bytes -> BigInt,
        width -> Integer,
        height -> Integer,
        source_format -> Text,
        exif_taken_at -> Nullable<Text>,
        exif_lat -> Nullable<Double>,
        exif_lng -> Nullable<Double>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    evidence (id) {
        id -> Text,
        event_id -> Nullable<Text>,
        kind -> Text,
        uploader_id -> Text,
        upload_sha256 -> Text,
        captured_at -> Nullable<Timestamp>,
        capture_lat -> Nullable<Double>,
        capture_lng -> Nullable<Double>,
        capture_source -> Nullable<Text>,
        flags -> Text,
        cited_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    evidence_uploads (id) {
        id -> Text,
        uploader_id -> Text,
        fields -> Text,
        total_bytes -> BigInt,
        sha256 -> Text,
        received -> BigInt,
        evidence_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    volunteer_applications (id) {
        id -> Text,
        user_id -> Text,
        community_code -> Text,
        street_code -> Text,
        phone -> Text,
        note -> Text,
        state -> Text,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    service_records (user_id, event_id) {
        user_id -> Text,
        event_id -> Text,
        community_code -> Text,
        street_code -> Text,
        points -> Integer,
        minutes -> Integer,
        claimed_at -> Timestamp,
        resolved_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    hotspots (id) {
        id -> Text,
        category_code -> Text,
        cell -> Text,
        lat -> Double,
        lng -> Double,
        street_code -> Nullable<Text>,
        district_code -> Nullable<Text>,
        event_count -> Integer,
        first_event_at -> Timestamp,
        last_event_at -> Timestamp,
        state -> Text,
        detected_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    hotspot_events (hotspot_id, event_id) {
        hotspot_id -> Text,
        event_id -> Text,
    }
}

diesel::table! {
    event_excuses (event_id, excused_at) {
        event_id -> Text,
        excused_at -> Timestamp,
        excused_by -> Text,
        reason -> Text,
    }
}

diesel::table! {
    event_milestones (event_id) {
        event_id -> Text,
        accepted_at -> Nullable<Timestamp>,
        dispatched_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        returns -> Integer,
    }
}

diesel::table! {
    reports (id) {
        id -> Text,
        kind -> Text,
        area_code -> Text,
        period_from -> Timestamp,
        period_to -> Timestamp,
        rows -> Integer,
        csv -> Binary,
        xlsx -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    erasure_requests (id) {
        id -> Text,
        user_id -> Text,
        areas -> Text,
        state -> Text,
        decided_by -> Nullable<Text>,
        decided_at -> Nullable<Timestamp>,
        decision_reason -> Nullable<Text>,
        summary -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    open311_clients (id) {
        id -> Text,
        name -> Text,
        key_hash -> Text,
        area_code -> Text,
        user_id -> Text,
        created_by -> Nullable<Text>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    open311_requests (id) {
        id -> Text,
        client_id -> Text,
        event_id -> Text,
        request_key -> Text,
        service_code -> Text,
        description -> Text,
        address -> Nullable<Text>,
        lat -> Double,
        lng -> Double,
        media_url -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    hotline_calls (id) {
        id -> Text,
        reference -> Text,
        event_id -> Text,
        caller_name -> Nullable<Text>,
        caller_phone -> Nullable<Text>,
        filed_by -> Text,
        created_at -> Timestamp,
        callback_at -> Nullable<Timestamp>,
        callback_by -> Nullable<Text>,
        satisfied -> Nullable<Bool>,
        callback_note -> Nullable<Text>,
        purged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        name -> Text,
        url -> Text,
        secret -> Text,
        area_code -> Text,
        states -> Text,
        categories -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        consecutive_failures -> Integer,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        subscription_id -> Text,
        event_id -> Text,
        kind -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    department_systems (user_id) {
        user_id -> Text,
        department_id -> Text,
        name -> Text,
        area_code -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    open_data_areas (area_code) {
        area_code -> Text,
        published_by -> Text,
        published_at -> Timestamp,
    }
}

diesel::table! {
    indicators (code) {
        code -> Text,
        name -> Text,
        unit -> Text,
        levels -> Text,
        aggregation -> Text,
        window_secs -> BigInt,
        direction -> Text,
        blue -> Nullable<Double>,
        yellow -> Nullable<Double>,
        orange -> Nullable<Double>,
        red -> Nullable<Double>,
        hysteresis -> Double,
        category_code -> Nullable<Text>,
        active -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    indicator_overrides (indicator_code, area_code) {
        indicator_code -> Text,
        area_code -> Text,
        blue -> Nullable<Double>,
        yellow -> Nullable<Double>,
        orange -> Nullable<Double>,
        red -> Nullable<Double>,
        hysteresis -> Double,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sensors (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        indicators -> Text,
        lat -> Double,
        lng -> Double,
        area_code -> Text,
        city_code -> Nullable<Text>,
        district_code -> Nullable<Text>,
        street_code -> Nullable<Text>,
        community_code -> Nullable<Text>,
        grid_code -> Nullable<Text>,
        compound_code -> Nullable<Text>,
        building_code -> Nullable<Text>,
        kind -> Text,
        secret_hash -> Text,
        expected_interval_secs -> BigInt,
        last_seen_at -> Nullable<Timestamp>,
        battery -> Nullable<Double>,
        registered_by -> Text,
        created_at -> Timestamp,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    readings (sensor_id, indicator_code, measured_at) {
        sensor_id -> Text,
        indicator_code -> Text,
        measured_at -> Timestamp,
        value -> Double,
        received_at -> Timestamp,
    }
}

diesel::table! {
    reading_rollups (sensor_id, indicator_code, resolution, bucket) {
        sensor_id -> Text,
        indicator_code -> Text,
        resolution -> Text,
        bucket -> Timestamp,
        count -> BigInt,
        sum -> Double,
        min -> Double,
        max -> Double,
    }
}

diesel::table! {
    alerts (id) {
        id -> Text,
        kind -> Text,
        sensor_id -> Text,
        indicator_code -> Nullable<Text>,
        subject -> Text,
        level -> Text,
        state -> Text,
        raised_value -> Nullable<Double>,
        peak_value -> Nullable<Double>,
        last_value -> Nullable<Double>,
        noted_value -> Nullable<Double>,
        event_id -> Nullable<Text>,
        raised_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
        cleared_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    emergencies (id) {
        id -> Text,
        area_code -> Text,
        reason -> Text,
        declared_by -> Text,
        declared_at -> Timestamp,
        expected_end_at -> Timestamp,
        factor_general -> Double,
        factor_significant -> Double,
        factor_serious -> Double,
        factor_critical -> Double,
        events_shortened -> BigInt,
        people_told -> BigInt,
        ended_at -> Nullable<Timestamp>,
        ended_by -> Nullable<Text>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    special_operations (id) {
        id -> Text,
        name -> Text,
        area_code -> Text,
        target_level -> Text,
        category_code -> Text,
        description -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        emergency_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    special_operation_tasks (operation_id, area_code) {
        operation_id -> Text,
        area_code -> Text,
        event_id -> Text,
    }
}

diesel::joinable!(area_cells -> areas (area_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(role_assignments -> departments (department_id));
diesel::joinable!(role_assignments -> users (user_id));

diesel::joinable!(tasks -> events (event_id));
diesel::joinable!(supervision_orders -> events (event_id));
diesel::joinable!(hotspot_events -> hotspots (hotspot_id));
diesel::joinable!(evidence -> evidence_blobs (upload_sha256));
diesel::joinable!(evidence -> events (event_id));
diesel::joinable!(worker_status -> users (user_id));
diesel::joinable!(volunteer_applications -> users (user_id));
diesel::joinable!(service_records -> users (user_id));

diesel::table! {
    cluster_generations (topic) {
        topic -> Text,
        generation -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    users,
    events,
    tasks,
    worker_status,
    sessions,
    departments,
    role_assignments,
    login_throttle,
    audit_log,
    evidence,
    evidence_blobs,
    supervision_orders,
    volunteer_applications,
    service_records,
    hotspots,
    hotspot_events,
    erasure_requests,
    open311_clients,
    open311_requests,
    hotline_calls,
    webhook_subscriptions,
    webhook_deliveries,
    department_systems,
    open_data_areas,
    event_milestones,
    indicators,
    indicator_overrides,
    sensors,
    readings,
    reading_rollups,
    alerts,
    emergencies,
    special_operations,
    special_operation_tasks
);
