//! Which tenant a reset is for, and whether the caller may act there: the
//! policy's grants can give a permission in some tenants only, so a
//! helpdesk for one customer cannot touch another's guests.

use std::sync::Arc;

use super::{ResetError, ResetRequest, ResetService, ValidRequest};
use crate::auth::Identity;
use crate::graph::GraphClient;
use crate::policy::{Permission, TenantRef};
use crate::record::ResetRecord;
use crate::tenants::Tenant;

impl ResetService {
    /// The tenant a request names (or the only one), when the caller's
    /// grants give `resets:create` there; the record learns its configured
    /// name and id either way once it is resolved.
    pub(super) fn choose_tenant(
        &self,
        caller: &Identity,
        requested: Option<&str>,
        record: &mut ResetRecord,
    ) -> Result<Arc<Tenant>, ResetError> {
        check_tenant_field(requested)?;
        let tenant = Arc::clone(self.tenants.resolve(requested)?);
        record.tenant = tenant.name.clone();
        record.tenant_id = Some(tenant.id.clone());
        self.permitted(caller, &tenant, Permission::ResetsCreate)?;
        Ok(tenant)
    }

    /// Validate, pick the tenant, and check what the answer may carry.
    pub(super) fn admit(
        &self,
        caller: &Identity,
        may_receive_redeem_url: bool,
        input: Result<ResetRequest, ResetError>,
        record: &mut ResetRecord,
    ) -> Result<ValidRequest, ResetError> {
        let request = input?;
        let tenant = self.choose_tenant(caller, request.tenant.as_deref(), record)?;
        self.name_agent(caller, &tenant, request.on_behalf_of.as_deref(), record)?;
        let valid = request
            .validate(&self.defaults)
            .map_err(ResetError::Invalid)?;
        // The redeem URL is a credential: the permission must hold in this tenant.
        let url_allowed = may_receive_redeem_url
            && self
                .permitted(caller, &tenant, Permission::ResetsRedeemUrl)
                .is_ok();
        match valid.send_invitation_message || valid.dry_run || url_allowed {
            true => Ok(valid),
            false => Err(ResetError::RedeemUrlNotPermitted),
        }
    }

    /// `on_behalf_of`: an app token may name the person it acts for, when
    /// its grants give `resets:act-for-agents` here; a delegated token is
    /// that person already.
    fn name_agent(
        &self,
        caller: &Identity,
        tenant: &Tenant,
        agent: Option<&str>,
        record: &mut ResetRecord,
    ) -> Result<(), ResetError> {
        let Some(agent) = agent.map(str::trim) else {
            return Ok(());
        };
        if agent.is_empty() || agent.chars().count() > 256 {
            let why = "on_behalf_of: the agent's UPN or object id, 1 to 256 characters";
            return Err(ResetError::Invalid(why.into()));
        }
        if record.requested_by.agent.is_some() {
            let why = "on_behalf_of: a delegated token already names its user; leave it out";
            return Err(ResetError::Invalid(why.into()));
        }
        self.permitted(caller, tenant, Permission::ResetsActForAgents)?;
        record.requested_by.agent = Some(crate::record::Agent {
            id: agent.to_owned(),
            via: crate::record::AgentVia::OnBehalfOf,
        });
        Ok(())
    }

    /// Whether the caller's grants give `p` in `tenant`.
    pub(super) fn permitted(
        &self,
        caller: &Identity,
        tenant: &Tenant,
        p: Permission,
    ) -> Result<(), ResetError> {
        let here = TenantRef {
            name: &tenant.name,
            id: Some(&tenant.id),
        };
        match self
            .policy()
            .scope(&caller.policy_caller(), p)
            .covers(&here)
        {
            true => Ok(()),
            false => Err(ResetError::TenantNotPermitted {
                tenant: tenant.name.clone(),
                permission: p.as_str(),
            }),
        }
    }

    /// The configured tenants, by name, where the caller's grants give `p`
    /// (what `whoami` lists, and where the console offers a form).
    pub fn tenants_granting(&self, caller: &Identity, p: Permission) -> Vec<String> {
        let scope = self.policy().scope(&caller.policy_caller(), p);
        let here = |t: &&Arc<Tenant>| {
            scope.covers(&TenantRef {
                name: &t.name,
                id: Some(&t.id),
            })
        };
        self.tenants
            .iter()
            .filter(here)
            .map(|t| t.name.clone())
            .collect()
    }

    /// The Graph client of the tenant a stored reset belongs to.
    pub(super) fn graph_of(&self, record: &ResetRecord) -> Result<&GraphClient, ResetError> {
        self.tenants
            .by_name(&record.tenant)
            .map(|t| &t.graph)
            .ok_or_else(|| ResetError::TenantGone(record.tenant.clone()))
    }

    /// Log the tenants a policy names that are not configured: a typo there
    /// fails closed (the grant or rule covers nothing), so say so at once.
    pub(super) fn check_policy_tenants(&self, policy: &crate::policy::Policy) {
        let unknown: Vec<String> = policy
            .tenant_names()
            .into_iter()
            .filter(|n| self.tenants.resolve(Some(n)).is_err())
            .collect();
        if !unknown.is_empty() {
            tracing::warn!(
                ?unknown,
                "the policy names tenants that are not configured; what it says about them covers nothing"
            );
        }
    }

    /// The configured tenants (readiness, metrics, the workers).
    pub fn tenants(&self) -> &crate::tenants::Tenants {
        &self.tenants
    }
}

/// `tenant`, when given, is a name or an id: 1 to 64 characters.
pub(super) fn check_tenant_field(tenant: Option<&str>) -> Result<(), ResetError> {
    match tenant.map(|t| t.trim().chars().count()) {
        Some(0) | Some(65..) => Err(ResetError::Invalid(
            "tenant: a configured tenant's name or directory id, 1 to 64 characters".into(),
        )),
        _ => Ok(()),
    }
}
