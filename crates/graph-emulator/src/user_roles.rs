//! People's app role assignments on the tenant's APIs, as a seed states them: a user's
//! entry may carry `"apiRoles": {"<API client id>": ["<role value>", ...]}`, mirroring
//! an app's `apiRoles`. In Entra these are appRoleAssignments to the API's service
//! principal, a relationship rather than a user property, so the directory keeps them
//! apart from the Graph-shaped user object. Delegated tokens for the API carry them in
//! `roles` ("For user tokens, this set of values contains the assigned roles of the user
//! on the target application", access-token-claims-reference.md).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::app_seed::{AppSeed, check_api_roles};

/// The key of a seed user's role assignments.
pub(super) const SEED_KEY: &str = "apiRoles";

/// Role values by lower-case API client id.
pub(super) type Assignments = BTreeMap<String, Vec<String>>;

/// Each user's assignments, by lower-case user id.
pub(super) type UserRoles = BTreeMap<String, Assignments>;

type User = Map<String, Value>;

/// Takes each user's role assignments out of its seed entry.
pub(super) fn take_roles(mut users: Vec<User>) -> (Vec<User>, UserRoles) {
    let mut roles = UserRoles::new();
    for user in &mut users {
        let Some(listed) = user.remove(SEED_KEY) else {
            continue;
        };
        let assignments: Assignments = assignments(listed).unwrap_or_default();
        let lowered =
            (assignments.into_iter()).map(|(api, values)| (api.to_ascii_lowercase(), values));
        roles.insert(id_of(user).to_ascii_lowercase(), lowered.collect());
    }
    (users, roles)
}

/// Every assignment names an API of the seed and a role it defines. The message names
/// the offending user entry.
pub(super) fn validate(users: &[User], apps: &[AppSeed]) -> Result<(), String> {
    for (i, user) in users.iter().enumerate() {
        let Some(listed) = user.get(SEED_KEY) else {
            continue;
        };
        let Some(assignments) = assignments(listed.clone()) else {
            let message = "apiRoles must map API client ids to arrays of role values";
            return Err(format!("users[{i}]: {message}"));
        };
        check_api_roles(apps, &assignments).map_err(|e| format!("users[{i}]: {e}"))?;
    }
    Ok(())
}

/// The user's roles on the API with `api_client_id`, in the API's definition order.
pub(super) fn roles_on(
    roles: &UserRoles,
    user_id: &str,
    api_client_id: &str,
    defined: &[String],
) -> Vec<String> {
    let granted = (roles.get(&user_id.to_ascii_lowercase()))
        .and_then(|assignments| assignments.get(&api_client_id.to_ascii_lowercase()));
    let granted = granted.map(Vec::as_slice).unwrap_or_default();
    defined
        .iter()
        .filter(|r| granted.contains(r))
        .cloned()
        .collect()
}

fn assignments(listed: Value) -> Option<Assignments> {
    serde_json::from_value(listed).ok()
}

fn id_of(user: &User) -> &str {
    user.get("id").and_then(Value::as_str).unwrap_or_default()
}
