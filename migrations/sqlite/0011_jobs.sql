-- Bulk jobs. A job's items are resets (resets.job_id, job_item), written with
-- the job in one transaction and unique per (job, item): whatever crashes,
-- an item exists once and runs through the queue like any queued reset.
create table jobs (
    id text primary key,
    kind text not null,
    state text not null,
    created_at text not null,
    finished_at text,
    requested_by text not null,
    -- The creator's identity (JSON), as the policy sees it: an interrupted
    -- item goes back to the queue with it.
    caller text not null,
    tenant text,
    spec text not null,
    total integer not null,
    -- The approval the policy's [jobs] table asks for, and its decisions (JSON).
    approval text
);
create index jobs_requested_by on jobs (requested_by, created_at);
alter table resets add column job_id text;
alter table resets add column job_item integer;
-- The job's size, which the policy's max_job_items limits.
alter table resets add column job_total integer;
create unique index resets_job_item on resets (job_id, job_item);
-- Job items have workers of their own: each lane takes its oldest entry.
alter table reset_queue add column job_id text;
create index reset_queue_single on reset_queue (enqueued_at, reset_id) where job_id is null;
create index reset_queue_bulk on reset_queue (enqueued_at, reset_id) where job_id is not null;
