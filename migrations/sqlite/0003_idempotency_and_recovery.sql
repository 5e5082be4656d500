-- Idempotency-Key (draft-ietf-httpapi-idempotency-key-header): one row per
-- (caller, route, key). Claimed in the same transaction as the reset's
-- pending row; completed with the answer to replay. The replayed body never
-- holds the redeem URL (a credential is shown once).
create table idempotency_keys (
    principal      text not null,              -- issuer + newline + subject
    route          text not null,              -- e.g. 'POST /v1/resets'
    key            text not null,
    fingerprint    text not null,              -- SHA-256 of the request body
    reset_id       text not null,
    state          text not null check (state in ('in_progress', 'done')),
    status         integer,
    content_type   text,
    body           text,
    created_at     text not null,
    expires_at     text not null,
    primary key (principal, route, key)
);

create index idempotency_expiry on idempotency_keys (expires_at);

-- What reconciliation read back from Graph to finalise a row (JSON), and
-- the reset a retry re-drives.
alter table resets add column evidence text;
alter table resets add column retry_of text;
create index resets_retry_of on resets (retry_of);
