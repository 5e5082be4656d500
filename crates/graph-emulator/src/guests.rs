//! Plain invitations (no `invitedUser.id`): re-invite the guest who already has the
//! address, or create a new guest user the way B2B does (graph.md §1.7, §2.1).

use serde_json::{Map, Value, json};

use super::clock;
use super::invitation_request::ValidInvitation;
use super::state::{State as Directory, text};

/// Index of the invited user, creating the guest when the address is new. The existing
/// match uses `mail` only: it is unique, while `otherMails` may be shared (and then the
/// real service's choice is UNVERIFIED).
pub(super) fn find_or_create(state: &mut Directory, invitation: &ValidInvitation) -> usize {
    let address = invitation.email.to_lowercase();
    let existing = state
        .users
        .iter()
        .position(|u| text(u, "mail").is_some_and(|m| m.to_lowercase() == address));
    if let Some(index) = existing {
        return index;
    }
    let guest = new_guest(&state.tenant.domain, invitation);
    state.users.push(guest);
    state.users.len() - 1
}

fn new_guest(tenant_domain: &str, invitation: &ValidInvitation) -> Map<String, Value> {
    let email = &invitation.email;
    let request = &invitation.request;
    // Guest UPN: the address with '@' replaced by '_', then #EXT# at the tenant's
    // initial domain (graph.md §2.1).
    let upn = format!("{}#EXT#@{tenant_domain}", email.replace('@', "_"));
    let local = email.split('@').next().unwrap_or(email);
    let now = clock::graph_date_time();
    let guest = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "displayName": request.invited_user_display_name.as_deref().unwrap_or(local),
        "userPrincipalName": upn,
        "mail": email,
        "otherMails": [],
        "proxyAddresses": [format!("SMTP:{email}")],
        "businessPhones": [],
        "userType": request.invited_user_type.as_deref().unwrap_or("Guest"),
        "externalUserState": "PendingAcceptance",
        "externalUserStateChangeDateTime": now,
        "creationType": "Invitation",
        "accountEnabled": true,
        "createdDateTime": now,
        // Before redemption the identity shows the host tenant (graph.md §2.1).
        "identities": [{
            "signInType": "userPrincipalName",
            "issuer": tenant_domain,
            "issuerAssignedId": upn,
        }],
    });
    match guest {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
