//! Reading guests and their directory roles, and adding an address to
//! `otherMails`.

use reqwest::{Method, Url};
use serde::Deserialize;
use tracing::instrument;

use super::budget::Limit;
use super::retry::Replay;
use super::send::Request;
use super::{Call, GraphClient, GraphError, json};

/// Properties outside Graph's default set must be `$select`ed explicitly.
pub(super) const USER_SELECT: &str = "id,displayName,userPrincipalName,mail,otherMails,userType,\
    externalUserState,externalUserStateChangeDateTime,creationType";

/// The user properties the reset needs.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GraphUser {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub other_mails: Vec<String>,
    #[serde(default)]
    pub user_type: Option<String>,
    #[serde(default)]
    pub external_user_state: Option<String>,
    #[serde(default)]
    pub external_user_state_change_date_time: Option<String>,
}

/// A directory role the user holds (directly or through a group).
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryRole {
    pub id: String,
    pub display_name: Option<String>,
}

/// What `transitiveMemberOf` says about a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Memberships {
    pub roles: Vec<DirectoryRole>,
    /// Group object ids.
    pub groups: Vec<String>,
}

/// One page of a Graph collection (also read by sponsors.rs).
#[derive(Deserialize)]
pub(super) struct Collection<T> {
    pub(super) value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    pub(super) next_link: Option<String>,
}

/// A directoryObject as collections list it: its type, id and name.
#[derive(Deserialize)]
pub(super) struct DirectoryObject {
    #[serde(rename = "@odata.type", default)]
    pub(super) odata_type: String,
    pub(super) id: String,
    #[serde(rename = "displayName", default)]
    pub(super) display_name: Option<String>,
}

/// Quote a string literal for OData `$filter` (a `'` is written `''`).
fn odata_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl GraphClient {
    /// The user with this object id or UPN; `None` when Graph says 404.
    #[instrument(skip_all)]
    pub async fn get_user(&self, id_or_upn: &str) -> Result<Call<Option<GraphUser>>, GraphError> {
        let mut url = self.url(&["users", id_or_upn]);
        url.query_pairs_mut().append_pair("$select", USER_SELECT);
        match self.send(read(url, "user"), json::<GraphUser>).await {
            Ok(call) => Ok(Call {
                value: Some(call.value),
                request_id: call.request_id,
            }),
            Err(GraphError::Api {
                status: 404,
                request_id,
                ..
            }) => Ok(Call {
                value: None,
                request_id,
            }),
            Err(e) => Err(e),
        }
    }

    /// Users whose `mail`, `otherMails` or UPN equals `email`.
    #[instrument(skip_all)]
    pub async fn find_users_by_email(
        &self,
        email: &str,
    ) -> Result<Call<Vec<GraphUser>>, GraphError> {
        let quoted = odata_string(email);
        let filter = format!(
            "mail eq {quoted} or otherMails/any(m:m eq {quoted}) or userPrincipalName eq {quoted}"
        );
        let mut url = self.url(&["users"]);
        url.query_pairs_mut()
            .append_pair("$filter", &filter)
            .append_pair("$select", USER_SELECT);
        let page = self
            .send(read(url, "user list"), json::<Collection<GraphUser>>)
            .await?;
        Ok(Call {
            value: page.value.value,
            request_id: page.request_id,
        })
    }

    /// Directory roles and groups the user is in, directly or through
    /// (role-assignable) groups (`transitiveMemberOf`), following every page.
    #[instrument(skip_all)]
    pub async fn memberships(&self, user_id: &str) -> Result<Call<Memberships>, GraphError> {
        let mut url = self.url(&["users", user_id, "transitiveMemberOf"]);
        let (mut found, mut request_id) = (Memberships::default(), None);
        loop {
            let call = self
                .send(
                    read(url, "memberships"),
                    json::<Collection<DirectoryObject>>,
                )
                .await?;
            request_id = call.request_id.or(request_id);
            let page = call.value;
            for o in page.value {
                match o.odata_type.as_str() {
                    "#microsoft.graph.directoryRole" => found.roles.push(DirectoryRole {
                        id: o.id,
                        display_name: o.display_name,
                    }),
                    "#microsoft.graph.group" => found.groups.push(o.id),
                    _ => {}
                }
            }
            match page.next_link {
                Some(next) => url = self.same_origin(&next)?,
                None => {
                    return Ok(Call {
                        value: found,
                        request_id,
                    });
                }
            }
        }
    }

    /// A `@odata.nextLink` is followed only on Graph's own origin: the
    /// bearer token must never be sent anywhere else.
    pub(super) fn same_origin(&self, link: &str) -> Result<Url, GraphError> {
        let url = Url::parse(link).map_err(|e| GraphError::Decode(format!("nextLink: {e}")))?;
        match url.origin() == self.base.origin() {
            true => Ok(url),
            false => Err(GraphError::Decode("nextLink points outside Graph".into())),
        }
    }

    /// Replace `otherMails` with `other_mails` (Graph has no append).
    #[instrument(skip_all)]
    pub async fn set_other_mails(
        &self,
        user_id: &str,
        other_mails: &[String],
    ) -> Result<Call<()>, GraphError> {
        let body = serde_json::json!({ "otherMails": other_mails });
        let req = Request {
            method: Method::PATCH,
            url: self.url(&["users", user_id]),
            body: Some(&body),
            // Sets the whole list, so a repeat after an unknown outcome is harmless.
            replay: Replay::Idempotent,
            what: "user update",
            limit: Some(Limit::UserWrites),
            eventual: false,
        };
        // 204 No Content: there is no body to decode.
        self.send(req, |_| Ok(())).await
    }
}

pub(super) fn read(url: Url, what: &'static str) -> Request<'static> {
    Request {
        method: Method::GET,
        url,
        body: None,
        replay: Replay::Idempotent,
        what,
        limit: None,
        eventual: false,
    }
}

#[cfg(test)]
mod tests {
    use super::odata_string;

    #[test]
    fn odata_strings_double_single_quotes() {
        assert_eq!(odata_string("o'neil@x.example"), "'o''neil@x.example'");
    }
}
