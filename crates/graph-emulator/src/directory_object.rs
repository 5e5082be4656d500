//! Users and groups as Graph renders them: a user's default or selected properties (every
//! user read), and both inside directoryObject collections (`sponsors`,
//! `transitiveMembers`), including the limited form an app gets for a type it may not read.
//! Also how the directory finds them: by id, as sponsors, as a group's transitive members.

use std::collections::{HashSet, VecDeque};

use serde_json::{Map, Value, json};

use super::bearer::{Caller, READ_GROUPS, READ_USERS};
use super::schema::{self, SELECT_ALL, USER_DEFAULT_PROPERTIES};
use super::seed::GroupSeed;
use super::state::{State, text};

/// A user or a group of the directory.
#[derive(Clone, Copy)]
pub(super) enum DirectoryObject<'a> {
    User(&'a Map<String, Value>),
    Group(&'a GroupSeed),
}

/// Which types the caller may read in full. Graph returns the others with their type and
/// id only, every other property null, and still answers 200 (permissions-overview,
/// "Limited information returned for inaccessible member objects"; the sponsors and
/// transitiveMembers pages include that note).
#[derive(Clone, Copy)]
pub(super) struct Readable {
    users: bool,
    groups: bool,
}

impl Readable {
    pub(super) fn of(caller: &Caller) -> Readable {
        Readable {
            users: caller.may(READ_USERS),
            groups: caller.may(READ_GROUPS),
        }
    }
}

/// How an item is rendered: `typed` adds `@odata.type`, which a mixed collection needs
/// and a cast one (a single type, named by `@odata.context`) omits, as the docs' examples
/// of both show.
#[derive(Clone, Copy)]
pub(super) struct Rendering<'a> {
    pub(super) selected: Option<&'a [&'static str]>,
    pub(super) readable: Readable,
    pub(super) typed: bool,
}

impl Rendering<'_> {
    pub(super) fn render(&self, object: DirectoryObject<'_>) -> Value {
        let (type_name, readable, mut item) = match object {
            DirectoryObject::User(user) => ("user", self.readable.users, self.user(user)),
            DirectoryObject::Group(group) => ("group", self.readable.groups, self.group(group)),
        };
        if !readable {
            item.iter_mut()
                .filter(|(name, _)| name.as_str() != "id")
                .for_each(|(_, value)| *value = Value::Null);
        }
        if self.typed {
            let odata_type = format!("#microsoft.graph.{type_name}");
            item.insert("@odata.type".to_owned(), Value::String(odata_type));
        }
        Value::Object(item)
    }

    /// The user's default property set, every stored property for `*`, or the selected
    /// names that are user properties.
    fn user(&self, user: &Map<String, Value>) -> Map<String, Value> {
        let Some(names) = self.selected else {
            return project(user, None);
        };
        if names.contains(&SELECT_ALL) {
            return user.clone();
        }
        let own: Vec<&str> = (names.iter().copied())
            .filter(|name| schema::user_property(name) == Some(*name))
            .collect();
        project(user, Some(&own))
    }

    fn group(&self, group: &GroupSeed) -> Map<String, Value> {
        let full = group_json(group);
        match self.selected {
            Some(names) if !names.contains(&SELECT_ALL) => full
                .into_iter()
                .filter(|(name, _)| names.contains(&name.as_str()))
                .collect(),
            _ => full,
        }
    }
}

/// The user as Graph renders it: the default set without `$select`, otherwise exactly the
/// selected properties. Absent values render as `null`, absent collections as `[]`.
pub(super) fn project(user: &Map<String, Value>, selected: Option<&[&str]>) -> Map<String, Value> {
    let names = selected.unwrap_or(USER_DEFAULT_PROPERTIES);
    names
        .iter()
        .map(|name| {
            let value = user
                .get(*name)
                .cloned()
                .unwrap_or_else(|| empty_value(name));
            ((*name).to_owned(), value)
        })
        .collect()
}

fn empty_value(name: &str) -> Value {
    if schema::is_user_collection(name) {
        Value::Array(Vec::new())
    } else {
        Value::Null
    }
}

/// Every modelled property of a group (a security group; mail-enabled when it has a mail).
pub(super) fn group_json(group: &GroupSeed) -> Map<String, Value> {
    let full = json!({
        "id": group.id,
        "deletedDateTime": null,
        "description": group.description,
        "displayName": group.display_name,
        "isAssignableToRole": group.is_assignable_to_role,
        "mail": group.mail,
        "mailEnabled": group.mail.is_some(),
        "securityEnabled": true,
    });
    match full {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl State {
    pub(super) fn group(&self, id: &str) -> Option<&GroupSeed> {
        self.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id))
    }

    /// The user or group with this object id.
    pub(super) fn directory_object(&self, id: &str) -> Option<DirectoryObject<'_>> {
        let user = self
            .users
            .iter()
            .find(|u| text(u, "id").is_some_and(|i| i.eq_ignore_ascii_case(id)));
        user.map(DirectoryObject::User)
            .or_else(|| self.group(id).map(DirectoryObject::Group))
    }

    /// The user's sponsors, in the order the seed lists them.
    pub(super) fn sponsors_of(&self, user_id: &str) -> Vec<DirectoryObject<'_>> {
        let listed = self.sponsors.get(&user_id.to_ascii_lowercase());
        (listed.into_iter().flatten())
            .filter_map(|id| self.directory_object(id))
            .collect()
    }

    /// The group's members, nested groups expanded, each object once: direct members in
    /// seed order, then each nested group's (breadth first). Nested groups are listed too,
    /// as Graph's flat transitive list includes them.
    pub(super) fn transitive_members<'a>(
        &'a self,
        group: &'a GroupSeed,
    ) -> Vec<DirectoryObject<'a>> {
        let mut seen = HashSet::from([group.id.to_ascii_lowercase()]);
        let mut pending = VecDeque::from([group]);
        let mut found = Vec::new();
        while let Some(current) = pending.pop_front() {
            for id in &current.members {
                if !seen.insert(id.to_ascii_lowercase()) {
                    continue;
                }
                let member = self.directory_object(id);
                if let Some(DirectoryObject::Group(nested)) = member {
                    pending.push_back(nested);
                }
                found.extend(member);
            }
        }
        found
    }
}
