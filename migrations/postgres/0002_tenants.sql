-- The tenant a reset belongs to: its configured name, and the directory id
-- (or domain) that name stood for then. Rows written before tenants existed
-- were all in the one tenant the GRAPH_* variables describe, `default`.
alter table resets add column tenant text not null default 'default';
alter table resets add column tenant_id text;
create index resets_tenant on resets (tenant, id);
