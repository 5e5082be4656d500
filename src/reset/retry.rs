//! Re-driving an `unknown` reset (`POST /v1/resets/{id}/retry`): a new
//! request with the original's parameters and its own audit row pointing at
//! the original (`retry_of`). It goes through the whole flow again (Graph
//! read, policy, writes), so nothing is applied blindly; the original does not
//! count against its own retry, and only one retry of it may go ahead, once
//! its own read-back after the grace period left it to a person.

use super::{Context, Failure, Outcome, ResetError, ResetRequest, ResetService};
use crate::record::{ResetRecord, Status};

impl ResetService {
    pub async fn retry(
        &self,
        ctx: Context<'_>,
        original: &ResetRecord,
    ) -> Result<Outcome, Failure> {
        let refuse = |why: String| Failure {
            record: None,
            error: ResetError::NotRetryable(why),
        };
        if original.status != Status::Unknown || original.dry_run {
            return Err(refuse(format!(
                "Reset {} is {}; only a reset whose outcome is unknown can be retried. Send a new request instead.",
                original.id,
                original.status.as_str()
            )));
        }
        if let Some(at) = &original.settle_after {
            // The original may still have applied late; re-driving it now
            // could reset the guest twice.
            return Err(refuse(format!(
                "Reset {} is read back from Graph again at {at}; it settles itself when the evidence is clear. Retry it after that if it is still unknown.",
                original.id
            )));
        }
        let live = self
            .store
            .live_retries_of(&original.id)
            .await
            .map_err(|e| Failure {
                record: None,
                error: e.into(),
            })?;
        if let Some(first) = live.first() {
            return Err(refuse(format!(
                "Reset {} was already retried as {first}; look at that one.",
                original.id
            )));
        }
        let request = ResetRequest {
            // The object id pins the same guest even if emails changed since.
            user: original
                .target
                .id
                .clone()
                .or_else(|| original.user.clone())
                .unwrap_or_default(),
            // The same tenant, by its configured name.
            tenant: Some(original.tenant.clone()),
            // The retry is the retrying caller's; the original agent stays on the original.
            on_behalf_of: None,
            new_email: original.new_email.clone(),
            redirect_url: original.redirect_url.clone(),
            send_invitation_message: original.send_invitation_message,
            message: None,
            ticket: original.ticket.clone(),
            reason: original.reason.clone(),
            dry_run: false,
            override_cooldown: original.override_cooldown,
        };
        let ctx = Context {
            retry_of: Some(original.id.clone()),
            ..ctx
        };
        self.create(ctx, Ok(request)).await
    }
}
