-- Graph's documented limits, counted by every replica together: a log of
-- recent sends per budget (key: the limit and the tenant, and the app for
-- per-app limits) and, per budget, until when bulk work holds back after
-- Graph throttled any replica. Times are the database's clock in ms since
-- the epoch, so replicas whose clocks differ still count one window.
create table graph_budgets (
    key text primary key,
    cool_until integer not null
);
create table graph_sends (
    key text not null,
    sent_at integer not null
);
create index graph_sends_window on graph_sends (key, sent_at);
