//! A reset waiting for its guest's sponsors: who they are is read from Graph
//! once the wait is committed (never inside the decision's transaction), and
//! kept in the record: users as they are, groups as their users, at any depth.

use super::flow::note;
use super::{ResetError, ResetService, Step};
use crate::graph::{GraphClient, GraphError, SponsorKind};
use crate::policy::{ApproverRule, Requirement};
use crate::record::{Approvers, ResetRecord, Status};

/// At most this many sponsor groups are expanded (a guest has a handful).
const MAX_GROUPS: usize = 20;

impl ResetService {
    /// The reset now waits (`awaiting_approval`); with sponsors as
    /// approvers, read them and keep them. A guest without any sponsor who
    /// could approve is refused instead.
    pub(super) async fn await_approval(
        &self,
        graph: &GraphClient,
        guest: &str,
        need: Requirement,
        record: &mut ResetRecord,
    ) -> Result<(), ResetError> {
        if need.approvers != ApproverRule::Sponsors {
            return Ok(());
        }
        let ids = self.sponsor_ids(graph, guest, record).await?;
        // Nobody approves their own request: a requester who is the only
        // sponsor leaves nobody who could.
        let others = ids
            .iter()
            .filter(|id| !super::ruling::is_person_of(id, record));
        if others.count() == 0 {
            return Err(ResetError::NoSponsors);
        }
        if let Some(approval) = record.approval.as_mut() {
            approval.approvers = Approvers::Sponsors { object_ids: ids };
            approval.expires_at = super::approvals::expiry(need.expires_hours);
        }
        self.advance(record, Some(Status::AwaitingApproval)).await
    }

    /// The object ids of the guest's sponsors who are users, directly or as
    /// members of a sponsor group.
    async fn sponsor_ids(
        &self,
        graph: &GraphClient,
        guest: &str,
        record: &mut ResetRecord,
    ) -> Result<Vec<String>, ResetError> {
        let sponsors = note(record, Step::ReadSponsors, graph.sponsors(guest).await)?;
        let mut ids: Vec<String> = Vec::new();
        let groups = sponsors.iter().filter(|s| s.kind == SponsorKind::Group);
        for group in groups.take(MAX_GROUPS) {
            let members = graph.group_user_members(&group.id).await;
            // A sponsor group deleted since has no members who could approve.
            if let Err(GraphError::Api { status: 404, .. }) = &members {
                continue;
            }
            ids.extend(note(record, Step::ReadSponsorGroup, members)?);
        }
        let users = sponsors.iter().filter(|s| s.kind == SponsorKind::User);
        ids.extend(users.map(|s| s.id.clone()));
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}
