//! The Entra tenants the service works in, each with a Graph client of its
//! own: token cache, circuit breaker, concurrency limit and invitation
//! budget belong to one tenant, so one customer's outage or throttling
//! stalls no other (Graph throttles `/invitations` per tenant, graph.md §5).

use std::sync::Arc;

use crate::graph::GraphClient;

/// One tenant as the use case sees it.
pub struct Tenant {
    /// The short name requests, policies and records use.
    pub name: String,
    /// The directory's id (or domain) as configured, lower-case.
    pub id: String,
    pub graph: GraphClient,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("name", &self.name)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Why a request's tenant could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    #[error("several tenants are configured; name one in `tenant` ({})", .known.join(", "))]
    Required { known: Vec<String> },
    #[error("tenant: {0:?} is neither the name nor the id of a configured tenant")]
    Unknown(String),
}

/// Every configured tenant, in file order; clone freely.
#[derive(Clone, Debug)]
pub struct Tenants {
    list: Arc<[Arc<Tenant>]>,
}

impl Tenants {
    pub fn new(list: Vec<Tenant>) -> Tenants {
        Tenants {
            list: list.into_iter().map(Arc::new).collect(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Tenant>> {
        self.list.iter()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The tenant a record names (exactly its name).
    pub fn by_name(&self, name: &str) -> Option<&Arc<Tenant>> {
        self.list.iter().find(|t| t.name == name)
    }

    /// The tenant a request names, by name or id, case-insensitively; with
    /// exactly one tenant the name may be left out.
    pub fn resolve(&self, requested: Option<&str>) -> Result<&Arc<Tenant>, TenantError> {
        let requested = requested.map(str::trim).filter(|r| !r.is_empty());
        match (requested, &*self.list) {
            (None, [only]) => Ok(only),
            (None, _) => Err(TenantError::Required {
                known: self.list.iter().map(|t| t.name.clone()).collect(),
            }),
            (Some(r), list) => list
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(r) || t.id.eq_ignore_ascii_case(r))
                .ok_or_else(|| TenantError::Unknown(r.chars().take(64).collect())),
        }
    }
}
