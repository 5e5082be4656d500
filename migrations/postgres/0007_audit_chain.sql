-- The audit trail (docs/audit.md): an append-only chain of events beside the
-- resets projection. Every move of a reset and every admin action appends
-- one, in the transaction that makes the change; each carries the SHA-256 of
-- the one before. Events are never updated; old ones are deleted only behind
-- a signed checkpoint (retention).
create table audit_events (
    seq bigint primary key,
    at text not null,
    kind text not null,
    subject text not null,
    -- Canonical JSON (sorted keys, no whitespace), as hashed.
    actor text not null,
    data text not null,
    prev text not null,
    hash text not null
);
create index audit_events_subject on audit_events (subject, seq);
-- The chain's head, one row. Every append locks it first (an update), so the
-- appends of every replica form one chain in commit order, and the export
-- never sees event n+1 committed before event n. Verification compares the
-- last event with it: removing the newest events shows. `prev` is the hash
-- before the last append (PostgreSQL appends in one statement, whose SET
-- sees only the row as it was).
create table audit_head (
    id integer primary key,
    seq bigint not null,
    hash text not null,
    prev text not null
);
insert into audit_head (id, seq, hash, prev)
values (1, 0, '0000000000000000000000000000000000000000000000000000000000000000',
        '0000000000000000000000000000000000000000000000000000000000000000');
-- Signed checkpoints of the head (C2SP signed-note text), newest last.
create table audit_checkpoints (
    size bigint primary key,
    hash text not null,
    signed_at text not null,
    note text not null
);
