-- Approval notifications: one row per event about a reset (requested,
-- approved, denied, cancelled, expired, executed), its body fixed when the
-- event happened, POSTed to GUEST_RESET_NOTIFY_URL by the callback sender
-- with the same backoff until delivered or given up; every attempt is kept.
create table notifications (
    id           text primary key,           -- webhook-id, the same on every attempt
    reset_id     text not null references resets (id),
    event        text not null,              -- approval.requested, ...
    body         text not null,
    url          text not null,
    attempts     integer not null default 0,
    next_at      text not null,
    delivered_at text,
    gave_up_at   text,
    last_error   text
);
create index notifications_due on notifications (delivered_at, gave_up_at, next_at);
create index notifications_reset on notifications (reset_id);

create table notification_attempts (
    notification_id text not null,
    attempt      integer not null,
    at           text not null,
    status       integer,                    -- HTTP status, null when none came
    error        text,
    primary key (notification_id, attempt)
);
