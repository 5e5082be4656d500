-- One row per reset request, written as 'pending' before any Graph call and
-- finalised afterwards. Timestamps are fixed-width RFC 3339 UTC text, so
-- string order is time order. Lists are JSON arrays.
create table resets (
    id                          text primary key,          -- UUIDv7, time-ordered
    status                      text not null
        check (status in ('pending', 'succeeded', 'failed', 'denied', 'unknown')),
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
    completed_at                text
);

create index resets_status on resets (status);
create index resets_target on resets (target_id);
create index resets_ticket on resets (ticket);
create index resets_requester on resets (requester_subject);
create index resets_created on resets (created_at);
