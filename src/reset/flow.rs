//! The steps of one reset, in order: resolve the guest, read its roles and
//! groups, ask the policy (which also refuses what Graph would refuse:
//! non-guests, role holders), make sure the new email is on the user, then
//! reset. Each Graph answer's `request-id` goes
//! into the record as it arrives.

use secrecy::SecretString;

use super::decide::Facts;
use super::{PlannedCall, ResetError, ResetService, Step, UserRef, ValidRequest};
use crate::auth::Identity;
use crate::graph::{
    Call, GraphClient, GraphError, GraphUser, InvitationRequest, Memberships, request_body,
};
use crate::record::{InvitationRecord, ResetRecord, Target};
use crate::store::QueueEntry;

/// What a successful run produced.
pub(super) enum Applied {
    /// The redeem URL Graph returned (a credential; never stored).
    Reset(Option<SecretString>),
    Plan(Vec<PlannedCall>),
    /// Waits for approval (recorded `awaiting_approval`); nothing written to Graph.
    Awaiting,
}

/// Keep Graph's request id (success or failure) and name the failing step.
pub(super) fn note<T>(
    record: &mut ResetRecord,
    step: Step,
    result: Result<Call<T>, GraphError>,
) -> Result<T, ResetError> {
    match result {
        Ok(call) => {
            record.graph_request_ids.extend(call.request_id);
            Ok(call.value)
        }
        Err(error) => {
            record
                .graph_request_ids
                .extend(error.request_id().map(str::to_owned));
            Err(ResetError::Graph { step, error })
        }
    }
}

fn email_on_user(user: &GraphUser, email: &str) -> bool {
    let same = |m: &String| m.eq_ignore_ascii_case(email);
    user.mail.iter().any(same) || user.other_mails.iter().any(same)
}

impl ResetService {
    pub(super) async fn run(
        &self,
        caller: &Identity,
        req: &ValidRequest,
        record: &mut ResetRecord,
        origin: &QueueEntry,
    ) -> Result<Applied, ResetError> {
        let graph = self.graph_of(record)?;
        let (user, memberships) = self.read_guest(graph, &req.user, record).await?;
        let new_email = req
            .new_email
            .clone()
            .or_else(|| user.mail.clone())
            .ok_or(ResetError::NewEmailRequired)?;
        record.new_email = Some(new_email.clone());
        let facts = Facts {
            user: &user,
            memberships: &memberships,
            new_email: &new_email,
            other_mails_write: !email_on_user(&user, &new_email),
            approvals: record.approval.as_ref().map_or(0, |a| a.approvals()),
            job_items: record.job.as_ref().map(|j| j.total),
        };
        let guest = user.id.clone();
        if let Some(need) = self.decide(caller, req, record, facts, origin).await? {
            self.await_approval(graph, &guest, *need, record).await?;
            return Ok(Applied::Awaiting);
        }
        self.apply(graph, req, record, &user, new_email).await
    }

    async fn apply(
        &self,
        graph: &GraphClient,
        req: &ValidRequest,
        record: &mut ResetRecord,
        user: &GraphUser,
        new_email: String,
    ) -> Result<Applied, ResetError> {
        let other_mails = (!email_on_user(user, &new_email)).then(|| {
            let mut list = user.other_mails.clone();
            list.push(new_email.clone());
            list
        });
        if other_mails.is_some() && !self.defaults.allow_other_mails_write {
            return Err(ResetError::EmailNotOnUser);
        }
        let invitation = InvitationRequest {
            user_id: user.id.clone(),
            email: new_email,
            redirect_url: req.redirect_url.clone(),
            send_invitation_message: req.send_invitation_message,
            message: req.message.clone(),
        };
        if req.dry_run {
            return Ok(Applied::Plan(plan(
                user,
                other_mails.as_deref(),
                &invitation,
            )));
        }
        if let Some(list) = &other_mails {
            note(
                record,
                Step::AddOtherMail,
                graph.set_other_mails(&user.id, list).await,
            )?;
            record.other_mails_added = true;
        }
        if record.invite_attempted_at.is_none() {
            self.anchor(record).await?;
        }
        // Right after adding the email, Graph may not see it yet (replication
        // lag): that variant retries the documented 400 within its deadline.
        let invited = match record.other_mails_added {
            true => graph.reset_redemption_after_email_added(&invitation).await,
            false => graph.reset_redemption(&invitation).await,
        };
        let invited = note(record, Step::Invite, invited)?;
        record.invitation = Some(InvitationRecord {
            id: invited.id.clone(),
            status: invited.status.clone(),
        });
        // Graph can answer 201 with status Error: that is a failure.
        if invited.status.eq_ignore_ascii_case("Error") {
            return Err(ResetError::InvitationStatus(invited.status));
        }
        Ok(Applied::Reset(invited.redeem_url))
    }

    /// Commit the time of this reset's first invitation attempt before it is
    /// sent: a read-back credits this reset only with changes after it, and a
    /// stopped process without it provably never sent the invitation. When no
    /// email had to be added, the decision's commit carried it already.
    async fn anchor(&self, record: &mut ResetRecord) -> Result<(), ResetError> {
        record.invite_attempted_at = Some(crate::record::now_rfc3339());
        self.advance(record, Some(crate::record::Status::Running))
            .await
    }

    /// The guest and, for a guest, its directory roles and groups. Named by
    /// object id, both reads go out together: one Graph round trip fewer
    /// before the decision. Otherwise the roles wait for the id; a member is
    /// refused by the policy anyway, so its roles are not needed.
    async fn read_guest(
        &self,
        graph: &GraphClient,
        user: &UserRef,
        record: &mut ResetRecord,
    ) -> Result<(GraphUser, Memberships), ResetError> {
        let (found, early_roles) = match user {
            UserRef::ObjectId(id) => {
                let (read, roles) = tokio::join!(graph.get_user(id), graph.memberships(id));
                let found = note(record, Step::ReadUser, read)?.into_iter().collect();
                (found, Some(roles))
            }
            UserRef::Upn(upn) => (
                note(record, Step::ReadUser, graph.get_user(upn).await)?
                    .into_iter()
                    .collect(),
                None,
            ),
            UserRef::Email(email) => (
                note(
                    record,
                    Step::ReadUser,
                    graph.find_users_by_email(email).await,
                )?,
                None,
            ),
        };
        let guest = identify(user, found, record)?;
        let is_guest =
            (guest.user_type.as_deref()).is_some_and(|t| t.eq_ignore_ascii_case("Guest"));
        let roles = match (is_guest, early_roles) {
            (true, Some(roles)) => roles,
            (true, None) => graph.memberships(&guest.id).await,
            (false, early) => {
                // Read anyway (by id): its request id still belongs in the record.
                if let Some(roles) = early {
                    let _ = note(record, Step::ReadRoles, roles);
                }
                return Ok((guest, Memberships::default()));
            }
        };
        let memberships = note(record, Step::ReadRoles, roles)?;
        Ok((guest, memberships))
    }
}

/// Exactly one user for the caller's identifier, recorded as the target with
/// its state before any write.
fn identify(
    user: &UserRef,
    found: Vec<GraphUser>,
    record: &mut ResetRecord,
) -> Result<GraphUser, ResetError> {
    let guest = match <[GraphUser; 1]>::try_from(found) {
        Ok([one]) => one,
        Err(found) if found.is_empty() => return Err(ResetError::UserNotFound(label(user))),
        Err(found) => {
            return Err(ResetError::UserAmbiguous {
                email: label(user),
                count: found.len(),
            });
        }
    };
    // Read before any write of this reset: also what "nothing happened"
    // looks like to a later read-back.
    record.target = Target {
        id: Some(guest.id.clone()),
        user_principal_name: guest.user_principal_name.clone(),
        previous_email: guest.mail.clone(),
        user_type: guest.user_type.clone(),
        external_user_state: guest.external_user_state.clone(),
        external_user_state_change_date_time: guest.external_user_state_change_date_time.clone(),
    };
    Ok(guest)
}

fn label(user: &UserRef) -> String {
    match user {
        UserRef::ObjectId(s) | UserRef::Upn(s) | UserRef::Email(s) => s.clone(),
    }
}

fn plan(
    user: &GraphUser,
    other_mails: Option<&[String]>,
    invitation: &InvitationRequest,
) -> Vec<PlannedCall> {
    let patch = other_mails.map(|list| PlannedCall {
        method: "PATCH",
        path: format!("/v1.0/users/{}", user.id),
        body: serde_json::json!({ "otherMails": list }),
    });
    let invite = PlannedCall {
        method: "POST",
        path: "/v1.0/invitations".into(),
        body: request_body(invitation),
    };
    patch.into_iter().chain([invite]).collect()
}
