//! Several Entra tenants behind one router, the way Entra and Graph host them: one
//! authority host and one Graph host for all tenants, the tenant chosen by the URL path
//! at the authority and by the access token at Graph (see `dispatch`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use super::{Emulator, OverrideError, dispatch};

/// Several tenants, each an [`Emulator`] with its own directory, keys, fault plan,
/// limits and request log. The first is the home tenant: it answers what names no
/// tenant. Cloning shares the same tenants.
#[derive(Clone)]
pub struct Cloud {
    tenants: Arc<[Emulator]>,
}

impl Cloud {
    /// A cloud of `tenants`, the first being the home tenant. Where two tenants share an
    /// id or domain the first one wins ([`Cloud::from_seed_files`] refuses that). With
    /// no tenants at all, every request is a 404.
    pub fn new(tenants: Vec<Emulator>) -> Cloud {
        if let Some(clash) = first_clash(&tenants) {
            tracing::warn!(%clash, "two tenants of the cloud share a name; the first wins");
        }
        Cloud {
            tenants: tenants.into(),
        }
    }

    /// One tenant; its router behaves as [`Emulator::router`], plus the per-tenant
    /// control routes.
    pub fn single(emulator: Emulator) -> Cloud {
        Cloud::new(vec![emulator])
    }

    /// The demo cloud: Contoso (home, [`Emulator::demo`]) and Tailspin Toys
    /// ([`Emulator::demo_tailspin`]).
    pub fn demo() -> Cloud {
        Cloud::new(vec![Emulator::demo(), Emulator::demo_tailspin()])
    }

    /// Loads and validates each seed file (the first is the home tenant) and refuses
    /// two that name the same tenant id or domain.
    pub fn from_seed_files(paths: &[PathBuf]) -> anyhow::Result<Cloud> {
        let tenants = paths
            .iter()
            .map(|path| Emulator::from_seed_file(path))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(clash) = first_clash(&tenants) {
            let shown = |i: usize| paths.get(i).map(|p| p.display().to_string());
            anyhow::bail!(
                "seed files {} and {} both define the tenant {}",
                shown(clash.first).unwrap_or_default(),
                shown(clash.second).unwrap_or_default(),
                clash.name
            );
        }
        Ok(Cloud::new(tenants))
    }

    /// Every tenant, home first.
    pub fn tenants(&self) -> &[Emulator] {
        &self.tenants
    }

    /// The tenant with this id (case-insensitive) or domain.
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Emulator> {
        self.tenants.iter().find(|t| t.is_tenant(id_or_domain))
    }

    /// [`Emulator::from_env_overrides`] applied to every tenant: each gets the same
    /// settings, and its own copy of a fault plan (its own random stream).
    pub fn from_env_overrides(self) -> Result<Cloud, OverrideError> {
        for tenant in self.tenants.iter() {
            tenant.clone().from_env_overrides()?;
        }
        Ok(self)
    }

    /// Every tenant on one router: the authority routes by the `{tenant}` path segment,
    /// Graph by the token's `tid`, `/_emulator/…` to the home tenant and
    /// `/_emulator/tenants/{id or domain}/…` to that tenant's control surface.
    pub fn router(&self) -> Router {
        dispatch::router(Arc::clone(&self.tenants))
    }

    /// Binds `addr` (e.g. "127.0.0.1:0"), serves on the current tokio runtime in the
    /// background, and returns the bound address.
    pub async fn spawn(&self, addr: &str) -> std::io::Result<SocketAddr> {
        super::serve_in_background(self.router(), addr).await
    }

    /// Serves the cloud on `listener` until `shutdown` completes (the binary).
    pub async fn run(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Two tenants (by index) that one name (an id or a domain) would both select.
struct Clash {
    first: usize,
    second: usize,
    name: String,
}

impl std::fmt::Display for Clash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Clash {
            first,
            second,
            name,
        } = self;
        write!(f, "tenants {first} and {second} are both {name}")
    }
}

fn first_clash(tenants: &[Emulator]) -> Option<Clash> {
    for (second, later) in tenants.iter().enumerate() {
        for (first, earlier) in tenants.iter().enumerate().take(second) {
            let (id, domain) = (earlier.tenant_id(), earlier.tenant_domain());
            let name = if later.is_tenant(&id) {
                format!("id {id}")
            } else if later.is_tenant(&domain) {
                format!("domain {domain}")
            } else {
                continue;
            };
            return Some(Clash {
                first,
                second,
                name,
            });
        }
    }
    None
}
