//! Who sponsors whom, as a seed states it: a user's entry may list its sponsors
//! (`"sponsors": [object ids of users or groups]`). The directory keeps them apart from
//! the Graph-shaped user object, as Graph keeps `sponsors` a relationship, not a property.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value};

/// The key of a seed user's sponsor list.
pub(super) const SEED_KEY: &str = "sponsors";

/// Sponsor ids by lower-case user id.
pub(super) type Sponsors = BTreeMap<String, Vec<String>>;

type User = Map<String, Value>;

/// Takes each user's sponsor list out of its seed entry.
pub(super) fn take_sponsors(mut users: Vec<User>) -> (Vec<User>, Sponsors) {
    let mut sponsors = Sponsors::new();
    for user in &mut users {
        let Some(listed) = user.remove(SEED_KEY) else {
            continue;
        };
        let ids = sponsor_ids(&listed).unwrap_or_default();
        let ids = ids.into_iter().map(str::to_owned).collect();
        sponsors.insert(id_of(user).to_ascii_lowercase(), ids);
    }
    (users, sponsors)
}

/// Every sponsor list is an array of ids of the seed's users or groups (a directory role,
/// say, cannot sponsor). The message names the offending user entry.
pub(super) fn validate<'a>(
    users: &'a [User],
    group_ids: impl Iterator<Item = &'a str>,
) -> Result<(), String> {
    let known: HashSet<String> = (users.iter().map(id_of))
        .chain(group_ids)
        .map(str::to_ascii_lowercase)
        .collect();
    for (i, user) in users.iter().enumerate() {
        let Some(listed) = user.get(SEED_KEY) else {
            continue;
        };
        let ids = sponsor_ids(listed)
            .ok_or_else(|| format!("users[{i}]: sponsors must be an array of object ids"))?;
        if let Some(missing) = ids
            .iter()
            .find(|id| !known.contains(&id.to_ascii_lowercase()))
        {
            return Err(format!(
                "users[{i}]: sponsor '{missing}' is not a user or group of the seed"
            ));
        }
    }
    Ok(())
}

fn sponsor_ids(listed: &Value) -> Option<Vec<&str>> {
    listed.as_array()?.iter().map(Value::as_str).collect()
}

fn id_of(user: &User) -> &str {
    user.get("id").and_then(Value::as_str).unwrap_or_default()
}
