//! Table tests for every rule field, the protections, grants and file errors,
//! and a property: adding a deny rule never allows more. Fixtures here.

mod approval;
mod file;
mod property;
mod reach;
mod rules;
mod tenants;

use time::OffsetDateTime;
use time::macros::datetime;

use super::*;

pub(super) const NOW: OffsetDateTime = datetime!(2026-11-25 12:00 UTC);

/// A question that the base rule allows; each case changes one thing.
pub(super) struct Q {
    /// The guest's tenant: name and directory id.
    pub tenant: (&'static str, &'static str),
    pub roles: Vec<String>,
    pub app: Option<&'static str>,
    pub user_type: Option<&'static str>,
    pub target_roles: Vec<String>,
    pub mail: Option<&'static str>,
    pub groups: Vec<String>,
    pub new_email: &'static str,
    pub other_mails_write: bool,
    pub redirect: &'static str,
    pub redirect_default: bool,
    pub send: bool,
    pub ticket: Option<&'static str>,
    pub reason: Option<&'static str>,
    pub override_cooldown: bool,
    pub approvals: u32,
    pub job_items: Option<u32>,
    pub history: History,
}

pub(super) fn q() -> Q {
    Q {
        tenant: ("contoso", "abd52d7b-5a6e-4d73-ab8b-f23b4a22e7c2"),
        roles: vec!["GuestReset.Helpdesk".into()],
        app: Some("portal-app"),
        user_type: Some("Guest"),
        target_roles: vec![],
        mail: Some("ann@fabrikam.example"),
        groups: vec![],
        new_email: "ann@northwind.example",
        other_mails_write: true,
        redirect: "https://myapps.microsoft.com",
        redirect_default: true,
        send: true,
        ticket: Some("INC0012345"),
        reason: Some("moved to Northwind last week"),
        override_cooldown: false,
        approvals: 0,
        job_items: None,
        history: History::default(),
    }
}

pub(super) fn decide(p: &Policy, q: &Q) -> Decision {
    p.decide(&Question {
        caller: Caller {
            issuer: "https://idp.example/",
            subject: "user-1",
            object_id: Some("oid-1"),
            app_id: q.app,
            roles: &q.roles,
            scopes: &[],
            groups: &[],
        },
        target: Target {
            tenant: TenantRef {
                name: q.tenant.0,
                id: Some(q.tenant.1),
            },
            id: "guest-1",
            upn: Some("ann_fabrikam.example#EXT#@contoso.onmicrosoft.com"),
            mail: q.mail,
            user_type: q.user_type,
            roles: &q.target_roles,
            groups: &q.groups,
        },
        ask: Ask {
            new_email: q.new_email,
            other_mails_write: q.other_mails_write,
            redirect_url: q.redirect,
            redirect_is_default: q.redirect_default,
            send_invitation_message: q.send,
            ticket: q.ticket,
            reason: q.reason,
            override_cooldown: q.override_cooldown,
            approvals: q.approvals,
            job_items: q.job_items,
        },
        history: &q.history,
        now: NOW,
    })
}

pub(super) const BASE: &str = r#"
[[rule]]
name = "helpdesk"
caller = { roles = ["GuestReset.Helpdesk"] }
target_domains = ["fabrikam.example", "*.fabrikam.example"]
target_groups = ["11111111-1111-1111-1111-111111111111"]
new_email_domains = ["northwind.example", "fabrikam.example"]
"#;

pub(super) fn policy(extra: &str) -> Policy {
    Policy::parse(&format!("{BASE}{extra}"), "test").unwrap()
}

pub(super) fn with(extra_fields: &str) -> Policy {
    Policy::parse(&format!("{BASE}{extra_fields}\n"), "test").unwrap()
}

pub(super) fn ago(mins: i64) -> OffsetDateTime {
    NOW - time::Duration::minutes(mins)
}
