//! Console sign-ins (`console_sessions`): a sign-in under way or a session,
//! by the SHA-256 of its cookie's value, until it expires. The HTTP edge
//! owns what `data` holds; the store only keeps it and forgets it on time.

use sqlx::Row;
use tracing::instrument;

use super::{Store, StoreError};

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A sign-in waiting for the identity provider's redirect (one use).
    Login,
    /// A signed-in person.
    Session,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Login => "login",
            SessionKind::Session => "session",
        }
    }
}

impl Store {
    /// Keep `data` under `id` until `expires_at` (seconds since the epoch);
    /// rows already expired at `now` go in the same transaction.
    #[instrument(skip_all, fields(kind = kind.as_str()))]
    pub async fn put_console_session(
        &self,
        id: &str,
        kind: SessionKind,
        data: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let (id, data) = (id.to_owned(), data.to_owned());
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("delete from console_sessions where expires_at <= $1")
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(
                        "insert into console_sessions (id, kind, data, expires_at) \
                         values ($1, $2, $3, $4)",
                    )
                    .bind(&id)
                    .bind(kind.as_str())
                    .bind(&data)
                    .bind(expires_at)
                    .execute(&mut *conn)
                    .await
                    .map(drop)
                })
            })
            .await
    }

    /// A sign-in under way, removed as it is read: a redirect replayed
    /// finds nothing.
    #[instrument(skip_all)]
    pub async fn take_console_login(
        &self,
        id: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let id = id.to_owned();
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "delete from console_sessions where id = $1 and kind = 'login' \
                         and expires_at > $2 returning data",
                    )
                    .bind(&id)
                    .bind(now)
                    .fetch_optional(&mut *conn)
                    .await?;
                    row.map(|r| r.try_get::<String, _>(0)).transpose()
                })
            })
            .await
    }

    /// A session that has not expired at `now`.
    #[instrument(skip_all)]
    pub async fn console_session(&self, id: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "select data from console_sessions where id = $1 and kind = 'session' \
             and expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
    }

    /// Sign out: the session is gone on every replica.
    #[instrument(skip_all)]
    pub async fn end_console_session(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.batch
            .write(move |conn| {
                Box::pin(async move {
                    sqlx::query("delete from console_sessions where id = $1")
                        .bind(&id)
                        .execute(&mut *conn)
                        .await
                        .map(drop)
                })
            })
            .await
    }
}
