-- The explicit lifecycle (src/reset/lifecycle.rs): a reset waiting in the
-- queue is 'queued'; one its owner is deciding is 'pending', one it is
-- writing to Graph is 'running'; 'awaiting_approval', 'cancelled' and
-- 'expired' are reserved for approvals. A row its owner drives carries a
-- lease (lease_owner, lease_expires_at) the owner renews; a row whose lease
-- ran out is reconciled. SQLite cannot alter a CHECK constraint, so the
-- table is rebuilt (the documented way), with foreign keys checked at
-- commit instead of during the copy.
pragma defer_foreign_keys = on;

create table resets_before_0007 as select * from resets;
drop table resets;

create table resets (
    id                          text primary key,          -- UUIDv7, time-ordered
    status                      text not null
        check (status in ('pending', 'queued', 'running', 'awaiting_approval', 'succeeded',
                          'failed', 'denied', 'unknown', 'cancelled', 'expired')),
    dry_run                     integer not null default 0,
    requested_user              text,
    target_id                   text,
    target_upn                  text,
    target_previous_email       text,
    target_user_type            text,
    target_external_user_state  text,
    new_email                   text,
    other_mails_added           integer not null default 0,
    send_invitation_message     integer,
    redirect_url                text,
    invitation_id               text,
    invitation_status           text,
    graph_request_ids           text not null default '[]',
    requester_subject           text not null,
    requester_app               text,
    requester_name              text,
    ticket                      text,
    reason                      text,
    policy_allowed              integer,
    policy_rule                 text,
    policy_reasons              text,
    problem_type                text,
    problem_title               text,
    problem_status              integer,
    problem_detail              text,
    request_id                  text,
    created_at                  text not null,
    completed_at                text,
    requester_issuer            text,
    requester_object_id         text,
    requester_tenant_id         text,
    policy_version              text,
    override_cooldown           integer not null default 0,
    evidence                    text,
    retry_of                    text,
    target_external_user_state_changed_at text,
    invite_attempted_at         text,
    settle_after                text,
    lease_owner                 text,
    lease_expires_at            text
);

insert into resets (id, status, dry_run, requested_user, target_id, target_upn, target_previous_email, target_user_type, target_external_user_state, new_email, other_mails_added, send_invitation_message, redirect_url, invitation_id, invitation_status, graph_request_ids, requester_subject, requester_app, requester_name, ticket, reason, policy_allowed, policy_rule, policy_reasons, problem_type, problem_title, problem_status, problem_detail, request_id, created_at, completed_at, requester_issuer, requester_object_id, requester_tenant_id, policy_version, override_cooldown, evidence, retry_of, target_external_user_state_changed_at, invite_attempted_at, settle_after)
select id, status, dry_run, requested_user, target_id, target_upn, target_previous_email, target_user_type, target_external_user_state, new_email, other_mails_added, send_invitation_message, redirect_url, invitation_id, invitation_status, graph_request_ids, requester_subject, requester_app, requester_name, ticket, reason, policy_allowed, policy_rule, policy_reasons, problem_type, problem_title, problem_status, problem_detail, request_id, created_at, completed_at, requester_issuer, requester_object_id, requester_tenant_id, policy_version, override_cooldown, evidence, retry_of, target_external_user_state_changed_at, invite_attempted_at, settle_after from resets_before_0007;
drop table resets_before_0007;

-- Queued work of an older version was 'pending' with a queue entry.
update resets set status = 'queued' where id in (select reset_id from reset_queue);

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

-- Periodic jobs run on one replica at a time: the holder renews its row;
-- the epoch grows with each new holder and fences out an old one's writes.
create table job_leases (
    name        text primary key,
    owner       text not null,
    epoch       integer not null,
    expires_at  text not null
);
