-- Evidence that belongs to one reset (a lost answer to POST /invitations is
-- judged by what Graph shows afterwards, and only changes after this reset's
-- own attempt count):
--   target_external_user_state_changed_at
--                       externalUserStateChangeDateTime of the guest as read
--                       before any write (beside target_external_user_state)
--   invite_attempted_at our clock just before the first POST /invitations,
--                       committed before it is sent; null means the
--                       invitation was never sent
--   settle_after        when an `unknown` row is read back again (the grace
--                       period); null means no automatic re-read is due
alter table resets add column target_external_user_state_changed_at text;
alter table resets add column invite_attempted_at text;
alter table resets add column settle_after text;

-- Rows of an older version still pending may have sent the invitation
-- without recording it: their anchor is their creation time (what the older
-- version judged by), so reconciliation never calls them "never sent".
update resets set invite_attempted_at = created_at
 where status in ('pending', 'unknown') and policy_allowed = 1 and dry_run = 0;

create index resets_settle_due on resets (status, settle_after);
create index resets_target_attempt on resets (target_id, invite_attempted_at);
