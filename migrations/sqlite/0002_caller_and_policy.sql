-- Who asked, as the validated token says (issuer + subject identify the
-- owner for resets:read:own), the policy version each decision was made
-- under, and whether the caller asked to override a cooldown.
alter table resets add column requester_issuer text;
alter table resets add column requester_object_id text;
alter table resets add column requester_tenant_id text;
alter table resets add column policy_version text;
alter table resets add column override_cooldown integer not null default 0;

-- Quota (per caller, last hour) and cooldown (per guest) read these.
create index resets_requester_created on resets (requester_issuer, requester_subject, created_at);
create index resets_target_created on resets (target_id, created_at);
