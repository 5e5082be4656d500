//! The Graph checks of every tenant in force, side by side: each tenant gets
//! its own client, token and reads, so one failing tenant stops only its own
//! later checks.

use super::target::Target;
use super::{Check, Status, access, reads, token};
use crate::config::Config;

const TENANT: &str = "tenant";

/// The tenants to check: every one in force, or the one named `only`.
pub(super) fn select(config: &Config, only: Option<&str>) -> Result<Vec<Target>, Check> {
    let from_file = !config.tenants.is_empty();
    let tenants = config.tenant_configs();
    let Some(name) = only else {
        return Ok(tenants
            .into_iter()
            .map(|t| Target::new(t, from_file))
            .collect());
    };
    let names: Vec<&str> = tenants.iter().map(|t| t.name.as_str()).collect();
    if let Some(tenant) = tenants.iter().find(|t| t.name == name) {
        return Ok(vec![Target::new(tenant.clone(), from_file)]);
    }
    let source = match from_file {
        true => "from GUEST_RESET_TENANTS_FILE",
        false => "from the GUEST_RESET_GRAPH_* variables; there is no tenants file",
    };
    let names = names.join(", ");
    Err(Check::failed(
        TENANT,
        format!("no tenant {name:?} is configured (tenants: {names}, {source})"),
        format!(
            "run `guest-reset doctor --tenant NAME` with NAME one of: {names} (or without \
             --tenant to check them all)"
        ),
    ))
}

/// Every target's checks, in the targets' order, each tagged with its tenant,
/// and the headings the text report groups them under. Without a tenants
/// file neither is set, so that report reads as it did before tenants.
pub(super) async fn check_all(
    targets: Vec<Target>,
    other_mails: bool,
) -> (Vec<Check>, Vec<(String, String)>) {
    let tagged = targets.iter().any(|t| t.from_file);
    let headings = match tagged {
        true => targets
            .iter()
            .map(|t| (t.name.clone(), t.heading()))
            .collect(),
        false => Vec::new(),
    };
    let running: Vec<_> = targets
        .into_iter()
        .map(|target| {
            let name = target.name.clone();
            (name, tokio::spawn(graph_checks(target, other_mails)))
        })
        .collect();
    let mut checks = Vec::new();
    for (name, task) in running {
        let found = task.await.unwrap_or_else(|e| {
            let fix = "run the doctor again; report the error if it persists".to_owned();
            vec![Check::failed(
                token::TOKEN,
                format!("the checks stopped: {e}"),
                fix,
            )]
        });
        let tenant = tagged.then_some(name);
        checks.extend(found.into_iter().map(|c| Check {
            tenant: tenant.clone(),
            ..c
        }));
    }
    (checks, headings)
}

/// Token, permissions and reads; later ones are skipped when there is no token.
async fn graph_checks(target: Target, other_mails: bool) -> Vec<Check> {
    let client = match token::client(&target) {
        Ok(client) => client,
        Err(check) => return skipping_after(check),
    };
    let token = token::token(&client, &target).await;
    if token.status != Status::Ok {
        return skipping_after(token);
    }
    let mut checks = vec![token];
    checks.extend(access::permissions(&client, &target, other_mails).await);
    checks.extend(reads::probe(&client, &target).await);
    checks
}

fn skipping_after(failed: Check) -> Vec<Check> {
    let mut checks = vec![failed];
    checks.extend(
        access::CHECKS
            .iter()
            .chain(reads::CHECKS)
            .map(|what| Check::skipped(what, "needs a Graph token")),
    );
    checks
}
