//! Reading a guest's sponsors, and the users among a group's transitive
//! members (a sponsor may be a group).

use reqwest::Url;
use serde::de::DeserializeOwned;
use tracing::instrument;

use super::users::read;
use super::users::{Collection, DirectoryObject};
use super::{Call, GraphClient, GraphError, json};

/// Pages followed at most per call; past it the call fails rather than
/// answer with a list it knows to be incomplete.
const MAX_PAGES: usize = 10;

/// `$top` for `transitiveMembers`: Graph's documented maximum page size
/// (default 100).
const MEMBERS_PAGE_SIZE: &str = "999";

/// What kind of directory object a sponsor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SponsorKind {
    User,
    Group,
    /// Any other `@odata.type`, or none.
    Other,
}

/// A user or group responsible for a guest.
#[derive(Debug, Clone, PartialEq)]
pub struct Sponsor {
    pub id: String,
    pub kind: SponsorKind,
    /// Absent when the app may not read that object type (Graph then
    /// returns only `@odata.type` and `id`).
    pub display_name: Option<String>,
}

fn kind(odata_type: &str) -> SponsorKind {
    match odata_type {
        "#microsoft.graph.user" => SponsorKind::User,
        "#microsoft.graph.group" => SponsorKind::Group,
        _ => SponsorKind::Other,
    }
}

impl GraphClient {
    /// The guest's sponsors (`GET /users/{id | userPrincipalName}/sponsors`),
    /// every page. An unknown user is an `Api` 404.
    #[instrument(skip_all)]
    pub async fn sponsors(&self, user_id: &str) -> Result<Call<Vec<Sponsor>>, GraphError> {
        let mut url = self.url(&["users", user_id, "sponsors"]);
        url.query_pairs_mut()
            .append_pair("$select", "id,displayName");
        let call = all_pages::<DirectoryObject>(self, url, "sponsors").await?;
        let sponsors = call.value.into_iter().map(|o| Sponsor {
            kind: kind(&o.odata_type),
            id: o.id,
            display_name: o.display_name,
        });
        Ok(Call {
            value: sponsors.collect(),
            request_id: call.request_id,
        })
    }

    /// Object ids of the users among the group's members, nested groups
    /// included (`transitiveMembers`), every page. An unknown group is an
    /// `Api` 404.
    #[instrument(skip_all)]
    pub async fn group_user_members(
        &self,
        group_id: &str,
    ) -> Result<Call<Vec<String>>, GraphError> {
        // Not the `/microsoft.graph.user` cast: Graph documents it as an
        // advanced query (ConsistencyLevel: eventual + $count), answered from
        // an index that may lag membership changes. Filter on @odata.type.
        let mut url = self.url(&["groups", group_id, "transitiveMembers"]);
        url.query_pairs_mut()
            .append_pair("$select", "id")
            .append_pair("$top", MEMBERS_PAGE_SIZE);
        let call = all_pages::<DirectoryObject>(self, url, "group members").await?;
        let users = call
            .value
            .into_iter()
            .filter_map(|o| match kind(&o.odata_type) {
                SponsorKind::User => Some(o.id),
                _ => None,
            });
        Ok(Call {
            value: users.collect(),
            request_id: call.request_id,
        })
    }
}

/// Every item of a collection, following `@odata.nextLink` for at most
/// [`MAX_PAGES`] pages; the request-id is the last one Graph sent.
async fn all_pages<T: DeserializeOwned>(
    client: &GraphClient,
    mut url: Url,
    what: &'static str,
) -> Result<Call<Vec<T>>, GraphError> {
    let (mut items, mut request_id) = (Vec::new(), None);
    for _ in 0..MAX_PAGES {
        let call = client.send(read(url, what), json::<Collection<T>>).await?;
        request_id = call.request_id.or(request_id);
        items.extend(call.value.value);
        match call.value.next_link {
            Some(next) => url = client.same_origin(&next)?,
            None => {
                return Ok(Call {
                    value: items,
                    request_id,
                });
            }
        }
    }
    Err(GraphError::Decode(format!(
        "{what}: more than {MAX_PAGES} pages"
    )))
}
