-- Asynchronous resets (webhook deliveries, `Prefer: respond-async`): the
-- audit row is written `pending` when the request is accepted, and the work
-- waits here until a worker takes it (the entry is deleted as it is taken,
-- so a pending row without an entry is one in progress). Queued work
-- survives a restart; start-up reconciliation leaves queued rows alone.
create table reset_queue (
    reset_id     text primary key references resets (id),
    request      text not null,              -- the reset request (JSON)
    caller       text not null,              -- the identity the policy sees (JSON)
    source       text,                       -- the webhook source, for its callback
    enqueued_at  text not null
);
create index reset_queue_order on reset_queue (enqueued_at);

-- Replay protection: a delivery id seen before is acknowledged with the
-- reset it started, never a second reset. Kept beyond the timestamp tolerance.
create table webhook_deliveries (
    source       text not null,
    delivery_id  text not null,
    reset_id     text not null,
    received_at  text not null,
    primary key (source, delivery_id)
);
create index webhook_deliveries_received on webhook_deliveries (received_at);

-- Result callbacks: the final record, signed, POSTed to the source's URL
-- with backoff until delivered or given up; every attempt is kept.
create table callbacks (
    reset_id     text primary key references resets (id),
    source       text not null,
    url          text not null,
    attempts     integer not null default 0,
    next_at      text not null,
    delivered_at text,
    gave_up_at   text,
    last_error   text
);
create index callbacks_due on callbacks (delivered_at, gave_up_at, next_at);

create table callback_attempts (
    reset_id     text not null,
    attempt      integer not null,
    at           text not null,
    status       integer,                    -- HTTP status, null when none came
    error        text,
    primary key (reset_id, attempt)
);
