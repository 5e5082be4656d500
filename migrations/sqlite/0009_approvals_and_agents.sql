-- Approvals: the requirement and every decision (JSON), when an awaiting
-- reset expires, and the request waiting for them (what the queue gets once
-- the last approval is in). The agent: the person behind a portal's call.
alter table resets add column approval text;
alter table resets add column approval_expires_at text;
alter table resets add column requester_agent text;
alter table resets add column requester_agent_via text;
create index resets_approval_due on resets (status, approval_expires_at);
create index resets_agent on resets (requester_agent);
create table approval_requests (
    reset_id text primary key references resets (id),
    request text not null,
    caller text not null,
    source text
);
