//! Looking guests up: what the helpdesk needs before a reset (who is this,
//! which address, who sponsors them, do my rules reach them). Reads only;
//! nothing here is audited as a reset, and nothing is written to Graph.

use std::sync::Arc;

use serde::Serialize;
use tracing::instrument;

use super::{ResetError, ResetService, Step};
use crate::auth::Identity;
use crate::graph::{Call, GraphError, GraphUser, SponsorKind};
use crate::policy::{Permission, Reach, Target, TenantRef};
use crate::tenants::Tenant;

/// The most guests one lookup returns.
pub const SEARCH_LIMIT: u32 = 25;

/// A guest as a lookup lists it.
#[derive(Debug, Clone, Serialize)]
pub struct GuestSummary {
    pub id: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub user_principal_name: Option<String>,
    pub other_mails: Vec<String>,
    pub external_user_state: Option<String>,
    /// Whether a rule of the caller's reaches the guest by domain; `None`
    /// when only a rule by group could, which the guest's page reads.
    pub within_rules: Option<bool>,
}

/// One guest in full.
#[derive(Debug, Clone, Serialize)]
pub struct GuestDetail {
    pub tenant: String,
    #[serde(flatten)]
    pub summary: GuestSummary,
    pub external_user_state_change_date_time: Option<String>,
    /// Directory roles the guest holds (then no reset is allowed).
    pub directory_roles: Vec<String>,
    pub sponsors: Vec<SponsorView>,
    /// What the caller's rules say about this guest.
    pub reach: Reach,
}

#[derive(Debug, Clone, Serialize)]
pub struct SponsorView {
    pub id: String,
    /// `user`, `group` or `other`.
    pub kind: &'static str,
    pub display_name: Option<String>,
}

/// The guests a lookup found, in the tenant it searched.
#[derive(Debug, Clone, Serialize)]
pub struct GuestList {
    pub tenant: String,
    pub guests: Vec<GuestSummary>,
}

impl ResetService {
    /// Guests of `tenant` matching `text` (name words, mail or UPN prefix).
    #[instrument(skip_all)]
    pub async fn find_guests(
        &self,
        caller: &Identity,
        tenant: Option<&str>,
        text: &str,
    ) -> Result<GuestList, ResetError> {
        let tenant = self.lookup_tenant(caller, tenant)?;
        let found = graph(
            Step::SearchUsers,
            tenant.graph.search_guests(text, SEARCH_LIMIT).await,
        )?;
        let guests = found
            .into_iter()
            .filter(is_guest)
            .map(|u| self.summary(caller, &tenant, u))
            .collect();
        Ok(GuestList {
            tenant: tenant.name.clone(),
            guests,
        })
    }

    /// One guest by object id; `None` when there is no such guest (a
    /// member is not a guest, and is not shown).
    #[instrument(skip_all, fields(guest = %id))]
    pub async fn guest(
        &self,
        caller: &Identity,
        tenant: Option<&str>,
        id: &str,
    ) -> Result<Option<GuestDetail>, ResetError> {
        let tenant = self.lookup_tenant(caller, tenant)?;
        let graph_client = &tenant.graph;
        let (user, memberships, sponsors) = tokio::join!(
            graph_client.get_user(id),
            graph_client.memberships(id),
            graph_client.sponsors(id)
        );
        let Some(user) = graph(Step::ReadUser, user)?.filter(is_guest) else {
            return Ok(None);
        };
        let memberships = graph(Step::ReadRoles, memberships)?;
        let sponsors = graph(Step::ReadSponsors, sponsors)?;
        let roles: Vec<String> = (memberships.roles.iter())
            .map(|r| r.display_name.clone().unwrap_or_else(|| r.id.clone()))
            .collect();
        let target = target(&tenant, &user, &roles, &memberships.groups);
        let reach = self.policy().reach(&caller.policy_caller(), &target);
        Ok(Some(GuestDetail {
            tenant: tenant.name.clone(),
            external_user_state_change_date_time: user.external_user_state_change_date_time.clone(),
            directory_roles: roles,
            sponsors: sponsors.into_iter().map(sponsor_view).collect(),
            summary: summary_of(user, Some(reach.within_rules())),
            reach,
        }))
    }

    /// The tenant a lookup names (or the only one), where the caller's
    /// grants give `guests:read`.
    fn lookup_tenant(
        &self,
        caller: &Identity,
        requested: Option<&str>,
    ) -> Result<Arc<Tenant>, ResetError> {
        super::tenant::check_tenant_field(requested)?;
        let tenant = Arc::clone(self.tenants.resolve(requested)?);
        self.permitted(caller, &tenant, Permission::GuestsRead)?;
        Ok(tenant)
    }

    fn summary(&self, caller: &Identity, tenant: &Tenant, user: GraphUser) -> GuestSummary {
        let policy = self.policy();
        let who = caller.policy_caller();
        let reach = policy.reach(&who, &target(tenant, &user, &[], &[]));
        // A rule by group could still reach a guest no domain rule does.
        let by_group = policy.rules_for(&who).any(|r| !r.target_groups.is_empty());
        let within = match reach.within_rules() {
            false if by_group && reach.blocked.is_none() => None,
            within => Some(within),
        };
        summary_of(user, within)
    }
}

fn graph<T>(step: Step, result: Result<Call<T>, GraphError>) -> Result<T, ResetError> {
    result
        .map(|call| call.value)
        .map_err(|error| ResetError::Graph { step, error })
}

fn is_guest(user: &GraphUser) -> bool {
    (user.user_type.as_deref()).is_some_and(|t| t.eq_ignore_ascii_case("Guest"))
}

fn target<'a>(
    tenant: &'a Tenant,
    user: &'a GraphUser,
    roles: &'a [String],
    groups: &'a [String],
) -> Target<'a> {
    Target {
        tenant: TenantRef {
            name: &tenant.name,
            id: Some(&tenant.id),
        },
        id: &user.id,
        upn: user.user_principal_name.as_deref(),
        mail: user.mail.as_deref(),
        user_type: user.user_type.as_deref(),
        roles,
        groups,
    }
}

fn summary_of(user: GraphUser, within_rules: Option<bool>) -> GuestSummary {
    GuestSummary {
        id: user.id,
        display_name: user.display_name,
        mail: user.mail,
        user_principal_name: user.user_principal_name,
        other_mails: user.other_mails,
        external_user_state: user.external_user_state,
        within_rules,
    }
}

fn sponsor_view(s: crate::graph::Sponsor) -> SponsorView {
    let kind = match s.kind {
        SponsorKind::User => "user",
        SponsorKind::Group => "group",
        SponsorKind::Other => "other",
    };
    SponsorView {
        id: s.id,
        kind,
        display_name: s.display_name,
    }
}
