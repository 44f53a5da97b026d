//! The one portable schema: only column types both SQLite and PostgreSQL map the same
//! way (BigInt, Integer, Text, Bool, Date, Timestamp). Money is BigInt fen.

diesel::table! {
    /// Who did what, when, to which entity.
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    /// Employers (用人单位), keyed by unified social credit code.
    employers (id) {
        id -> BigInt,
        uscc -> Text,
        name -> Text,
        kind -> Text,
        region -> Text,
        registered_on -> Nullable<Date>,
        contact_email -> Nullable<Text>,
        establishment_size -> Nullable<Integer>,
        committee_member -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Bearer tokens, stored as SHA-256 digests.
    api_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        prefix -> Text,
        role -> Text,
        employer_uscc -> Nullable<Text>,
        region -> Nullable<Text>,
        label -> Nullable<Text>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// The current declaration of an employer for a levy year.
    declarations (id) {
        id -> BigInt,
        employer_id -> BigInt,
        levy_year -> Integer,
        version -> Integer,
        status -> Text,
        body_json -> Text,
        body_digest -> Text,
        submitted_at -> Nullable<Timestamp>,
        certified_at -> Nullable<Timestamp>,
        certified_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        returned_reason -> Nullable<Text>,
        returned_at -> Nullable<Timestamp>,
        returned_by -> Nullable<Text>,
        region -> Text,
    }
}

diesel::table! {
    /// Every version a declaration has had.
    declaration_versions (id) {
        id -> BigInt,
        declaration_id -> BigInt,
        version -> Integer,
        status -> Text,
        body_json -> Text,
        body_digest -> Text,
        created_at -> Timestamp,
        created_by -> Text,
    }
}

diesel::table! {
    /// Typed roster lines of current declarations.
    roster_lines (id) {
        id -> BigInt,
        declaration_id -> BigInt,
        employer_id -> BigInt,
        levy_year -> Integer,
        line_no -> Integer,
        certificate_no -> Text,
        holder_id -> Text,
        certificate_kind -> Text,
        grade -> Integer,
        months_mask -> Integer,
        on_establishment -> Bool,
        contract_months -> Nullable<Integer>,
        social_insurance_paid -> Bool,
        monthly_wage_fen -> Nullable<BigInt>,
        fresh_graduate -> Bool,
    }
}

diesel::table! {
    /// The federation's decision on a disputed certificate.
    certificate_resolutions (id) {
        id -> BigInt,
        levy_year -> Integer,
        holder_id -> Text,
        employer_id -> BigInt,
        resolved_by -> Text,
        resolved_at -> Timestamp,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    /// Distinct sets of policy values used by assessments.
    policy_snapshots (id) {
        id -> BigInt,
        digest -> Text,
        body_json -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// Batch assessment runs and their progress.
    assessment_runs (id) {
        id -> BigInt,
        levy_year -> Integer,
        region -> Nullable<Text>,
        status -> Text,
        total -> BigInt,
        processed -> BigInt,
        assessed -> BigInt,
        unchanged -> BigInt,
        failed -> BigInt,
        exempt -> BigInt,
        below_quota -> BigInt,
        payable_total_fen -> BigInt,
        last_employer_id -> BigInt,
        started_by -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    /// The chunks of a batch run: ranges of employer ids, each claimed and committed by
    /// one worker.
    assessment_run_chunks (run_id, seq) {
        run_id -> BigInt,
        seq -> Integer,
        after_employer_id -> BigInt,
        last_employer_id -> BigInt,
        done_at -> Nullable<Timestamp>,
        worker -> Nullable<Text>,
    }
}

diesel::table! {
    /// Immutable assessments; one current per employer and levy year.
    assessments (id) {
        id -> BigInt,
        employer_id -> BigInt,
        levy_year -> Integer,
        region -> Text,
        kind -> Text,
        declaration_id -> BigInt,
        declaration_version -> Integer,
        inputs_digest -> Text,
        policy_snapshot_id -> BigInt,
        as_of -> Date,
        staff_x12_e4 -> BigInt,
        disabled_x12_e4 -> BigInt,
        required_e4 -> BigInt,
        shortfall_e4 -> BigInt,
        average_wage_fen -> Nullable<BigInt>,
        wage_used_fen -> Nullable<BigInt>,
        fee_due_fen -> BigInt,
        reduction_fen -> BigInt,
        payable_fen -> BigInt,
        over_quota_e4 -> BigInt,
        reward_fen -> BigInt,
        exempt -> Bool,
        provisional -> Bool,
        inputs_json -> Text,
        run_id -> Nullable<BigInt>,
        computed_at -> Timestamp,
        superseded_at -> Nullable<Timestamp>,
        is_current -> Bool,
        registered_on -> Nullable<Date>,
    }
}

diesel::table! {
    /// The transactional outbox of email reminders (src/db/outbox.rs).
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        employer_id -> BigInt,
        levy_year -> Integer,
        stage -> Text,
        recipient -> Text,
        subject -> Text,
        body_zh -> Text,
        body_en -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_by -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        act_by -> Nullable<Date>,
    }
}

diesel::joinable!(outbox -> employers (employer_id));
diesel::table! {
    /// Levy payments.
    payments (id) {
        id -> BigInt,
        employer_id -> BigInt,
        levy_year -> Integer,
        amount_fen -> BigInt,
        paid_on -> Date,
        reference -> Text,
        idempotency_key -> Text,
        request_digest -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    /// Published compliance notices (公示), immutable (src/db/notices.rs).
    notices (id) {
        id -> BigInt,
        region -> Text,
        levy_year -> Integer,
        published_on -> Date,
        objection_until -> Date,
        replaces_id -> Nullable<BigInt>,
        entries -> Integer,
        content_json -> Text,
        content_sha256 -> Text,
        published_by -> Text,
        published_at -> Timestamp,
        entries_in_rows -> Bool,
    }
}

diesel::table! {
    /// The entries of a notice published with `entries_in_rows`, in published order.
    notice_entries (notice_id, entry_no) {
        notice_id -> BigInt,
        entry_no -> Integer,
        uscc -> Text,
        name -> Text,
        kind -> Text,
        kind_zh -> Text,
        region -> Text,
        region_name -> Text,
        staff -> Nullable<Text>,
        required -> Nullable<Text>,
        counted -> Nullable<Text>,
        status -> Text,
        status_zh -> Text,
    }
}

diesel::table! {
    /// The mails a published notice owes, planned after it a chunk of entries at a time.
    notice_mailings (notice_id) {
        notice_id -> BigInt,
        planned_through -> Integer,
        queued -> BigInt,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Objections to published notices, as the federation records them.
    notice_objections (id) {
        id -> BigInt,
        notice_id -> BigInt,
        entry_uscc -> Text,
        objector -> Text,
        received_on -> Date,
        claim -> Text,
        status -> Text,
        handling_note -> Nullable<Text>,
        handled_by -> Nullable<Text>,
        handled_at -> Nullable<Timestamp>,
        answered_by -> Nullable<BigInt>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    /// Hardship decisions: a reduction or a deferral of one levy year (src/db/hardship.rs).
    hardship_decisions (id) {
        id -> BigInt,
        employer_id -> BigInt,
        levy_year -> Integer,
        kind -> Text,
        decision -> Text,
        amount_fen -> Nullable<BigInt>,
        deferred_to -> Nullable<Date>,
        applied_on -> Date,
        decided_on -> Date,
        reason -> Text,
        decided_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    /// In-year forecasts: an employer's months so far of a year (docs/forecast.md).
    forecasts (id) {
        id -> BigInt,
        employer_id -> BigInt,
        year -> Integer,
        months_entered -> Integer,
        body_json -> Text,
        updated_by -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(forecasts -> employers (employer_id));
diesel::joinable!(hardship_decisions -> employers (employer_id));
diesel::joinable!(payments -> employers (employer_id));
diesel::joinable!(declarations -> employers (employer_id));
diesel::joinable!(declaration_versions -> declarations (declaration_id));
diesel::joinable!(roster_lines -> declarations (declaration_id));
diesel::joinable!(assessments -> employers (employer_id));
diesel::joinable!(assessments -> policy_snapshots (policy_snapshot_id));

diesel::table! {
    /// The server secret, one row (id 1), hex: keys the audit log's digests.
    server_secrets (id) {
        id -> Integer,
        secret_hex -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    /// People who sign in with a password; role and scope as an API token's.
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Nullable<Text>,
        role -> Text,
        employer_uscc -> Nullable<Text>,
        region -> Nullable<Text>,
        password_hash -> Text,
        disabled -> Bool,
        last_sign_in_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Server-side sessions of signed-in users, keyed by the SHA-256 of the cookie.
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        csrf_token -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Failed sign-ins per username and per client address (keyed digests).
    sign_in_throttle (kind, key_digest) {
        kind -> Text,
        key_digest -> Text,
        failures -> Integer,
        first_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// One-time codes (SHA-256 digests): an employer's activation, or a user's password
    /// reset (exactly one of `employer_id`, `user_id`).
    activation_invitations (id) {
        id -> BigInt,
        employer_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        token_hash -> Text,
        channel -> Text,
        created_at -> Timestamp,
        created_by -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(activation_invitations -> employers (employer_id));

diesel::table! {
    /// Signed computation receipts, one per assessment, kept as issued (src/db/receipts.rs).
    receipts (id) {
        id -> BigInt,
        assessment_id -> BigInt,
        digest -> Text,
        key_id -> Text,
        document_json -> Text,
        issued_at -> Timestamp,
    }
}

diesel::table! {
    /// Written demands (催缴通知书) issued to employers in arrears (src/db/demands.rs).
    written_demands (id) {
        id -> BigInt,
        employer_id -> BigInt,
        levy_year -> Integer,
        issued_on -> Date,
        deadline -> Date,
        principal_fen -> BigInt,
        surcharge_fen -> BigInt,
        issued_by -> Text,
        request_id -> Nullable<Text>,
        issued_at -> Timestamp,
    }
}

diesel::joinable!(receipts -> assessments (assessment_id));

diesel::table! {
    /// The bank reference of each payment imported from a bank's file, unique per
    /// employer (src/db/bank_payments.rs).
    bank_payments (payment_id) {
        payment_id -> BigInt,
        employer_id -> BigInt,
        bank_reference -> Text,
        import_id -> Text,
    }
}

diesel::joinable!(written_demands -> employers (employer_id));
diesel::joinable!(bank_payments -> payments (payment_id));

diesel::table! {
    /// The federation's decision on an employer's over-quota reward for a year.
    reward_decisions (id) {
        id -> BigInt,
        employer_id -> BigInt,
        levy_year -> Integer,
        assessment_id -> BigInt,
        reward_fen -> BigInt,
        approved -> Bool,
        reason -> Nullable<Text>,
        decided_by -> Text,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    /// Over-quota rewards paid out (a reversal is a negative row).
    reward_payouts (id) {
        id -> BigInt,
        employer_id -> BigInt,
        levy_year -> Integer,
        amount_fen -> BigInt,
        paid_on -> Date,
        reference -> Text,
        reverses_id -> Nullable<BigInt>,
        idempotency_key -> Text,
        request_digest -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    /// Positions reserved for disabled people (岗位预留).
    reserved_positions (id) {
        id -> BigInt,
        employer_id -> BigInt,
        title -> Text,
        openings -> Integer,
        county -> Text,
        address -> Text,
        requirements -> Text,
        accessibility -> Text,
        wage_min_fen -> BigInt,
        wage_max_fen -> BigInt,
        open_from -> Date,
        open_to -> Date,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        status -> Text,
        review_note -> Nullable<Text>,
        filled_roster_line_id -> Nullable<BigInt>,
        filled_holder_id -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
diesel::table! {
    /// The violator lists decided, one per levy year, date and state of the register.
    violator_lists (id) {
        id -> BigInt,
        levy_year -> Integer,
        as_of -> Date,
        stamp -> Text,
        complete -> Bool,
        entries -> BigInt,
        built_at -> Timestamp,
    }
}

diesel::table! {
    /// One employer of a violator list with all its rows (the table has no key of its
    /// own: an entry is found by its list's order).
    violator_entries (list_id, uscc) {
        list_id -> BigInt,
        uscc -> Text,
        name -> Text,
        kind -> Text,
        region -> Text,
        public_body -> Bool,
        owed_fen -> BigInt,
        kinds -> Integer,
        n_rows -> Integer,
        rows_json -> Text,
    }
}
diesel::joinable!(reward_decisions -> employers (employer_id));
diesel::joinable!(reward_payouts -> employers (employer_id));
diesel::joinable!(reserved_positions -> employers (employer_id));
diesel::joinable!(violator_entries -> violator_lists (list_id));

diesel::allow_tables_to_appear_in_same_query!(
    audit_log,
    employers,
    api_tokens,
    declarations,
    declaration_versions,
    roster_lines,
    certificate_resolutions,
    policy_snapshots,
    assessment_runs,
    assessment_run_chunks,
    assessments,
    outbox,
    payments,
    hardship_decisions,
    notices,
    notice_entries,
    notice_mailings,
    notice_objections,
    users,
    sessions,
    sign_in_throttle,
    activation_invitations,
    receipts,
    written_demands,
    bank_payments,
    reward_decisions,
    reward_payouts,
    reserved_positions,
    forecasts,
    violator_lists,
    violator_entries,
);
