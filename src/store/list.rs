//! Filtered, cursor-paginated listing. The cursor is the last id of the
//! previous page: ids are UUIDv7, so id order is creation order and the
//! cursor stays stable while new rows arrive.

use sqlx::{QueryBuilder, Sqlite};

use super::row::columns;

/// Largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 200;

/// What to list; every field narrows the result. Newest first.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Matches the requested identifier, target id, UPN, previous or new email.
    pub user: Option<String>,
    pub status: Option<String>,
    pub ticket: Option<String>,
    pub requested_by: Option<String>,
    /// With `requested_by`: only resets of this caller's issuer (so a subject
    /// from another issuer is someone else).
    pub requester_issuer: Option<String>,
    /// Inclusive lower bound on `created_at` (normalised RFC 3339).
    pub since: Option<String>,
    /// Exclusive upper bound on `created_at` (normalised RFC 3339).
    pub until: Option<String>,
    /// Only rows with an id below this one (the previous page's last id).
    pub before_id: Option<String>,
    pub limit: u32,
}

pub(super) fn query(f: &ListFilter) -> QueryBuilder<Sqlite> {
    let mut q = QueryBuilder::new(concat!("select ", columns!(), " from resets where 1 = 1"));
    if let Some(user) = &f.user {
        q.push(" and (");
        for (i, col) in [
            "requested_user",
            "target_id",
            "target_upn",
            "target_previous_email",
            "new_email",
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                q.push(" or ");
            }
            q.push(format_args!("lower({col}) = lower("))
                .push_bind(user)
                .push(")");
        }
        q.push(")");
    }
    let exact = [
        ("status = ", &f.status),
        ("ticket = ", &f.ticket),
        ("requester_subject = ", &f.requested_by),
        ("requester_issuer = ", &f.requester_issuer),
        ("created_at >= ", &f.since),
        ("created_at < ", &f.until),
        ("id < ", &f.before_id),
    ];
    for (clause, value) in exact {
        if let Some(v) = value {
            q.push(" and ").push(clause).push_bind(v);
        }
    }
    q.push(" order by id desc limit ")
        .push_bind(i64::from(f.limit.clamp(1, MAX_LIMIT)));
    q
}
