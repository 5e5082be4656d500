-- Console sign-ins, shared by every replica so any of them can answer a
-- person's next page: a sign-in under way (`login`: state, nonce and PKCE
-- verifier until the identity provider redirects back) or a session
-- (`session`: who signed in, as the API verified their token, and the
-- CSRF token). `id` is the SHA-256 of the cookie's random value, so the
-- table alone opens no session; no token is kept. Times: seconds since
-- the epoch.
create table console_sessions (
    id text primary key,
    kind text not null,
    data text not null,
    expires_at integer not null
);
create index console_sessions_expiry on console_sessions (expires_at);
