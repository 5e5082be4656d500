//! Filtered, cursor-paginated listing. The cursor is the last id of the
//! previous page: ids are UUIDv7, so id order is creation order and the
//! cursor stays stable while new rows arrive.

use sqlx::Any;
use sqlx::any::AnyArguments;

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
    /// Only this tenant (its name or directory id, case-insensitive).
    pub tenant: Option<String>,
    /// Only resets made for this agent (UPN or object id, case-insensitive).
    pub agent: Option<String>,
    /// Only resets this person (subject or object id) approved or denied.
    pub approver: Option<String>,
    /// What the caller may see; `None`: every row.
    pub visible: Option<Visible>,
    pub limit: u32,
}

/// The rows a caller may read: every row of the tenants in `all_in`, and
/// its own rows (same issuer and subject) in the tenants in `own_in`. A
/// list holds lower-cased tenant names or ids; `None` means every tenant.
#[derive(Debug, Clone, Default)]
pub struct Visible {
    pub all_in: Option<Vec<String>>,
    pub own_in: Option<Vec<String>>,
    pub issuer: String,
    pub subject: String,
}

/// SQL with `$N` placeholders numbered as binds are pushed (sqlx's
/// `QueryBuilder<Any>` writes `?`, which PostgreSQL does not accept).
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Sql {
    fn push(&mut self, sql: &str) -> &mut Sql {
        self.text.push_str(sql);
        self
    }

    fn bind(&mut self, value: Bind) -> &mut Sql {
        self.binds.push(value);
        self.text.push_str(&format!("${}", self.binds.len()));
        self
    }

    fn text(&mut self, value: &str) -> &mut Sql {
        self.bind(Bind::Text(value.to_owned()))
    }

    fn build(self) -> sqlx::query::Query<'static, Any, AnyArguments> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text));
        for b in self.binds {
            q = match b {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        q
    }
}

pub(super) fn query(f: &ListFilter) -> sqlx::query::Query<'static, Any, AnyArguments> {
    let mut q = Sql {
        text: concat!("select ", columns!(), " from resets where 1 = 1").to_owned(),
        binds: Vec::new(),
    };
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
            q.push(&format!("lower({col}) = lower("))
                .text(user)
                .push(")");
        }
        q.push(")");
    }
    push_requester(&mut q, f);
    if let Some(tenant) = &f.tenant {
        q.push(" and (lower(tenant) = lower(")
            .text(tenant)
            .push(") or lower(tenant_id) = lower(")
            .text(tenant)
            .push("))");
    }
    if let Some(agent) = &f.agent {
        q.push(" and lower(requester_agent) = lower(")
            .text(agent)
            .push(")");
    }
    if let Some(who) = &f.approver {
        // The decisions live in the approval JSON: match the quoted value,
        // with LIKE's wildcards in it taken literally.
        let value = serde_json::Value::from(who.as_str()).to_string();
        let literal = value
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let needle = |key: &str| format!("%\"{key}\":{literal}%");
        q.push(" and (approval like ")
            .text(&needle("subject"))
            .push(" escape '\\' or approval like ")
            .text(&needle("object_id"))
            .push(" escape '\\')");
    }
    if let Some(v) = &f.visible {
        q.push(" and (");
        in_tenants(&mut q, v.all_in.as_deref());
        q.push(" or (requester_issuer = ")
            .text(&v.issuer)
            .push(" and requester_subject = ")
            .text(&v.subject)
            .push(" and ");
        in_tenants(&mut q, v.own_in.as_deref());
        q.push("))");
    }
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
            q.push(" and ").push(clause).text(v);
        }
    }
    q.push(" order by id desc limit ")
        .bind(Bind::Int(i64::from(f.limit.clamp(1, MAX_LIMIT))));
    q.build()
}

/// A row's tenant is one of `list` (by name or id); `None`: any tenant.
fn in_tenants(q: &mut Sql, list: Option<&[String]>) {
    let Some(list) = list else {
        q.push("1 = 1");
        return;
    };
    if list.is_empty() {
        q.push("1 = 0");
        return;
    }
    for (column, first) in [("lower(tenant)", true), ("lower(tenant_id)", false)] {
        q.push(if first { "(" } else { " or " })
            .push(column)
            .push(" in (");
        for (i, t) in list.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.text(&t.to_lowercase());
        }
        q.push(")");
    }
    q.push(")");
}

/// `requested_by` and `requested_by_name`.
fn push_requester(q: &mut Sql, f: &ListFilter) {
    if let Some(by) = &f.requested_by {
        let source = match by.starts_with(WEBHOOK_ISSUER_PREFIX) {
            true => by.clone(),
            false => format!("{WEBHOOK_ISSUER_PREFIX}{by}"),
        };
        q.push(" and (requester_subject = ")
            .text(by)
            .push(" or requester_issuer = ")
            .text(&source)
            .push(")");
    }
    if let Some(name) = &f.requested_by_name {
        q.push(" and lower(requester_name) = lower(")
            .text(name)
            .push(")");
    }
}
