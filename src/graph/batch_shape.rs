//! Whether Graph would take a batch's shape: 1 to 20 items, unique ids
//! (json-batching.md: "Not case-sensitive. Must be unique"), and one of the
//! dependency shapes known-issues.md allows. Checked before sending, so a
//! refused batch never reaches Graph.

use std::collections::HashSet;

use super::MAX_BATCH_ITEMS;

/// An item's id and the id it depends on.
pub(super) type Item<'a> = (&'a str, Option<&'a str>);

/// Why Graph would refuse the batch as a whole, checked before sending.
pub(super) fn check(items: &[Item<'_>]) -> Result<(), String> {
    if items.is_empty() || items.len() > MAX_BATCH_ITEMS {
        return Err(format!(
            "batch refused: {} items; Graph takes 1 to {MAX_BATCH_ITEMS}",
            items.len()
        ));
    }
    // json-batching.md: ids are "Not case-sensitive. Must be unique".
    let mut ids = HashSet::new();
    for (id, _) in items {
        if id.is_empty() || !ids.insert(id.to_lowercase()) {
            return Err(format!("batch refused: id {id:?} is empty or not unique"));
        }
    }
    match dependency_shape_ok(items, &ids) {
        true => Ok(()),
        false => Err("batch refused: dependsOn is not parallel, serial or all-on-one".into()),
    }
}

/// known-issues.md "Request dependencies are limited": no item depends on
/// another (parallel), each on the one before (serial), or all that depend
/// name the same item (same).
fn dependency_shape_ok(items: &[Item<'_>], ids: &HashSet<String>) -> bool {
    let deps: Vec<(String, String)> = items
        .iter()
        .filter_map(|(id, on)| Some((id.to_lowercase(), on.as_deref()?.to_lowercase())))
        .collect();
    let Some((_, first)) = deps.first() else {
        return true;
    };
    let known = deps.iter().all(|(id, on)| id != on && ids.contains(on));
    let same = deps.iter().all(|(id, on)| on == first && id != first);
    let serial = items[0].1.is_none()
        && items
            .windows(2)
            .all(|w| w[1].1.map(str::to_lowercase) == Some(w[0].0.to_lowercase()));
    known && (same || serial)
}
