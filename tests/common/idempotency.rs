//! Idempotency test support: a key claimed the way the service claims it,
//! and a pending audit row, for states a running service only passes through.

use guest_reset::store::KeyClaim;
use serde_json::{Value, json};

use super::tenant;

/// The claim the demo caller's request with `key` and `body` makes.
pub fn claim_for(key: &str, body: &Value) -> KeyClaim {
    use guest_reset::auth::Identity;
    let caller = Identity {
        issuer: guest_reset::demo::DEMO_ISSUER.into(),
        subject: "helpdesk-agent-1".into(),
        object_id: None,
        tenant_id: None,
        app_id: None,
        name: None,
        username: None,
        roles: vec![],
        scopes: vec![],
        groups: vec![],
    };
    let inner = key.trim_matches('"').to_owned();
    let bytes = serde_json::to_vec(body).unwrap();
    guest_reset::http::idempotency_claim(
        &caller,
        inner,
        &bytes,
        std::time::Duration::from_secs(3600),
    )
}

/// A `pending` row of the demo caller for Adele.
pub fn pending_row() -> guest_reset::record::ResetRecord {
    serde_json::from_value(json!({
        "id": uuid::Uuid::now_v7().to_string(), "status": "pending", "dry_run": false,
        "user": tenant::ADELE_MAIL, "problem": null,
        "target": { "id": null, "user_principal_name": null, "previous_email": null, "user_type": null, "external_user_state": null },
        "new_email": null, "other_mails_added": false, "send_invitation_message": true,
        "redirect_url": null, "invitation": null, "graph_request_ids": [],
        "requested_by": { "issuer": guest_reset::demo::DEMO_ISSUER, "subject": "helpdesk-agent-1", "object_id": null, "tenant_id": null, "app": null, "name": null },
        "ticket": null, "reason": null, "override_cooldown": false, "policy": null,
        "request_id": null, "created_at": guest_reset::record::now_rfc3339(), "completed_at": null
    }))
    .unwrap()
}
