//! An emulator as one tenant among several (see [`crate::Cloud`]): who it is, and the
//! app registrations a multi-tenant scenario adds or takes away.

use super::{Emulator, Seed};

impl Emulator {
    /// The demo's second tenant, Tailspin Toys (see [`crate::demo::tailspin`]).
    pub fn demo_tailspin() -> Emulator {
        Emulator::from_seed(Seed::demo_tailspin())
    }

    /// The tenant id (a GUID), as the seed spells it.
    pub fn tenant_id(&self) -> String {
        self.lock().tenant.id.clone()
    }

    /// The tenant's domain, e.g. `contoso.onmicrosoft.com`.
    pub fn tenant_domain(&self) -> String {
        self.lock().tenant.domain.clone()
    }

    /// The tenant's display name, or its domain when the seed names none.
    pub fn tenant_display_name(&self) -> String {
        let state = self.lock();
        let tenant = &state.tenant;
        tenant.display_name.clone().unwrap_or(tenant.domain.clone())
    }

    /// Whether `id_or_domain` names this tenant: its id or its domain, both
    /// case-insensitive, as the authority's `{tenant}` path segment does.
    pub fn is_tenant(&self, id_or_domain: &str) -> bool {
        self.lock().is_tenant(id_or_domain)
    }

    /// Removes an app's registration and service principal from this tenant; false when
    /// it had none. Models a multi-tenant app that was never consented (or was removed)
    /// here: the token endpoint then answers it as an unknown client (AADSTS700016).
    /// Tokens already issued stay valid until they expire, as in Entra.
    pub fn remove_app(&self, client_id: &str) -> bool {
        let mut state = self.lock();
        let before = state.apps.len();
        state
            .apps
            .retain(|app| !app.client_id.eq_ignore_ascii_case(client_id));
        state.apps.len() != before
    }

    /// Assigns the directory role `role_id` (a seed role's id) to `member`, a user or a
    /// role-assignable group: what an administrator does in the portal. False when the
    /// role is unknown. Graph shows it in `transitiveMemberOf` from then on.
    pub fn assign_directory_role(&self, role_id: &str, member: &str) -> bool {
        let mut state = self.lock();
        let Some(role) = state.roles.iter_mut().find(|r| r.id == role_id) else {
            return false;
        };
        if !role.members.iter().any(|m| m == member) {
            role.members.push(member.to_owned());
        }
        true
    }
}
