//! Filtered, cursor-paginated listing. The cursor is the last id of the
//! previous page: ids are UUIDv7, so id order is creation order and the
//! cursor stays stable while new rows arrive.

use sqlx::{QueryBuilder, Sqlite};

use super::row::columns;
use crate::record::WEBHOOK_ISSUER_PREFIX;

/// Largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 200;

/// What to list; every field narrows the result. Newest first.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Matches the requested identifier, target id, UPN, previous or new email.
    pub user: Option<String>,
    pub status: Option<String>,
    pub ticket: Option<String>,
    /// What the record shows of the requester: its subject, or a webhook
    /// source by its issuer (`urn:guest-reset:webhook:<name>`) or name.
    pub requested_by: Option<String>,
    /// The requester's name (the token's, or the person a webhook mapping
    /// read), case-insensitive.
    pub requested_by_name: Option<String>,
    /// Only resets of exactly this caller (issuer and subject): `read:own`.
    pub requester_subject: Option<String>,
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
    push_requester(&mut q, f);
    let exact = [
        ("status = ", &f.status),
        ("ticket = ", &f.ticket),
        ("requester_subject = ", &f.requester_subject),
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

/// `requested_by` and `requested_by_name`.
fn push_requester(q: &mut QueryBuilder<Sqlite>, f: &ListFilter) {
    if let Some(by) = &f.requested_by {
        let source = match by.starts_with(WEBHOOK_ISSUER_PREFIX) {
            true => by.clone(),
            false => format!("{WEBHOOK_ISSUER_PREFIX}{by}"),
        };
        q.push(" and (requester_subject = ")
            .push_bind(by.clone())
            .push(" or requester_issuer = ")
            .push_bind(source)
            .push(")");
    }
    if let Some(name) = &f.requested_by_name {
        q.push(" and lower(requester_name) = lower(")
            .push_bind(name.clone())
            .push(")");
    }
}
