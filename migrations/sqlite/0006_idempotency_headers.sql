-- The headers of a stored idempotent answer that a replay repeats
-- (Location, Retry-After, Preference-Applied), as a JSON array of
-- [name, value] pairs. Null for answers stored before this migration: their
-- replays derive Location from reset_id. (0005 is reserved.)
alter table idempotency_keys add column headers text;
