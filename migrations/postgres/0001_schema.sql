-- The PostgreSQL schema: the same tables and columns as SQLite's after its
-- migration 0007 (tests/schema.rs compares them). One SQL dialect serves
-- both backends, so timestamps are fixed-width RFC 3339 UTC text (string
-- order is time order), flags are integers (0 or 1) and lists JSON text.
-- Later changes are new files in both folders; never edit a shipped one.

-- One row per reset request, written before any Graph call and moved
-- through the lifecycle (src/reset/lifecycle.rs) by compare-and-set.
create table resets (
    id                          text primary key,          -- UUIDv7, time-ordered
    status                      text not null
        check (status in ('pending', 'queued', 'running', 'awaiting_approval', 'succeeded',
                          'failed', 'denied', 'unknown', 'cancelled', 'expired')),
    dry_run                     bigint not null default 0,
    requested_user              text,
    target_id                   text,
    target_upn                  text,
    target_previous_email       text,
    target_user_type            text,
    target_external_user_state  text,
    new_email                   text,
    other_mails_added           bigint not null default 0,
    send_invitation_message     bigint,
    redirect_url                text,
    invitation_id               text,
    invitation_status           text,
    graph_request_ids           text not null default '[]',
    requester_subject           text not null,
    requester_app               text,
    requester_name              text,
    ticket                      text,
    reason                      text,
    policy_allowed              bigint,
    policy_rule                 text,
    policy_reasons              text,
    problem_type                text,
    problem_title               text,
    problem_status              bigint,
    problem_detail              text,
    request_id                  text,
    created_at                  text not null,
    completed_at                text,
    requester_issuer            text,
    requester_object_id         text,
    requester_tenant_id         text,
    policy_version              text,
    override_cooldown           bigint not null default 0,
    evidence                    text,
    retry_of                    text,
    target_external_user_state_changed_at text,
    invite_attempted_at         text,
    settle_after                text,
    lease_owner                 text,                      -- the replica driving the row
    lease_expires_at            text                       -- renewed while it lives
);

create index resets_status on resets (status);
create index resets_target on resets (target_id);
create index resets_ticket on resets (ticket);
create index resets_requester on resets (requester_subject);
create index resets_created on resets (created_at);
create index resets_requester_created on resets (requester_issuer, requester_subject, created_at);
create index resets_target_created on resets (target_id, created_at);
create index resets_retry_of on resets (retry_of);
create index resets_settle_due on resets (status, settle_after);
create index resets_target_attempt on resets (target_id, invite_attempted_at);
create index resets_lease on resets (status, lease_expires_at);
create index resets_lease_owner on resets (lease_owner);

-- Idempotency-Key: one row per (caller, route, key); the primary key decides
-- between two replicas claiming the same key at once.
create table idempotency_keys (
    principal      text not null,              -- issuer + newline + subject
    route          text not null,              -- e.g. 'POST /v1/resets'
    key            text not null,
    fingerprint    text not null,              -- SHA-256 of the request body
    reset_id       text not null,
    state          text not null check (state in ('in_progress', 'done')),
    status         bigint,
    content_type   text,
    body           text,
    created_at     text not null,
    expires_at     text not null,
    headers        text,
    primary key (principal, route, key)
);
create index idempotency_expiry on idempotency_keys (expires_at);

-- Queued work; replicas take entries with FOR UPDATE SKIP LOCKED.
create table reset_queue (
    reset_id     text primary key references resets (id),
    request      text not null,
    caller       text not null,
    source       text,
    enqueued_at  text not null
);
create index reset_queue_order on reset_queue (enqueued_at);

-- Webhook replay protection, claimed by the primary key.
create table webhook_deliveries (
    source       text not null,
    delivery_id  text not null,
    reset_id     text not null,
    received_at  text not null,
    primary key (source, delivery_id)
);
create index webhook_deliveries_received on webhook_deliveries (received_at);

create table callbacks (
    reset_id     text primary key references resets (id),
    source       text not null,
    url          text not null,
    attempts     bigint not null default 0,
    next_at      text not null,
    delivered_at text,
    gave_up_at   text,
    last_error   text
);
create index callbacks_due on callbacks (delivered_at, gave_up_at, next_at);

create table callback_attempts (
    reset_id     text not null,
    attempt      bigint not null,
    at           text not null,
    status       bigint,
    error        text,
    primary key (reset_id, attempt)
);

-- Periodic jobs run on one replica at a time (src/store/lease.rs).
create table job_leases (
    name        text primary key,
    owner       text not null,
    epoch       bigint not null,
    expires_at  text not null
);
