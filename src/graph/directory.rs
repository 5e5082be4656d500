//! Listing guests: for a domain move, Graph's advanced query on `/users`
//! (`endswith` needs `ConsistencyLevel: eventual` and `$count=true`),
//! following every `@odata.nextLink`; for a lookup, `$search` (which works
//! on directory objects only as an advanced query).

use tracing::instrument;

use super::users::{Collection, USER_SELECT, read};
use super::{Call, GraphClient, GraphError, GraphUser, json};

/// Graph's largest page for users.
const PAGE: &str = "999";

impl GraphClient {
    /// Every guest whose `mail` ends with `@domain`. The index behind
    /// advanced queries is eventually consistent: a guest added seconds ago
    /// may be missing (the job's dry run shows what was found).
    #[instrument(skip_all, fields(domain))]
    pub async fn guests_by_mail_domain(
        &self,
        domain: &str,
    ) -> Result<Call<Vec<GraphUser>>, GraphError> {
        let suffix = format!("@{domain}").replace('\'', "''");
        let mut url = self.url(&["users"]);
        url.query_pairs_mut()
            .append_pair("$filter", &format!("endswith(mail,'{suffix}')"))
            .append_pair("$count", "true")
            .append_pair("$select", USER_SELECT)
            .append_pair("$top", PAGE);
        let (mut found, mut request_id) = (Vec::new(), None);
        loop {
            let mut req = read(url, "guest list");
            req.eventual = true;
            let call = self.send(req, json::<Collection<GraphUser>>).await?;
            request_id = call.request_id.or(request_id);
            let guests = call.value.value.into_iter().filter(|u| {
                u.user_type
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case("Guest"))
            });
            found.extend(guests);
            match call.value.next_link {
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

    /// Guests whose display name has words starting with `text`, or whose
    /// mail or UPN starts with it: Graph's `$search` tokenizes only
    /// `displayName` and treats other properties as `startswith`
    /// (search-query-parameter.md, "Using $search on directory object
    /// collections"). At most `top`, the first page only: a lookup that
    /// needs more should say more.
    #[instrument(skip_all)]
    pub async fn search_guests(
        &self,
        text: &str,
        top: u32,
    ) -> Result<Call<Vec<GraphUser>>, GraphError> {
        let clause = |property: &str| format!("\"{property}:{}\"", search_text(text));
        let search = ["displayName", "mail", "userPrincipalName"]
            .map(clause)
            .join(" OR ");
        let mut url = self.url(&["users"]);
        url.query_pairs_mut()
            .append_pair("$search", &search)
            .append_pair("$filter", "userType eq 'Guest'")
            .append_pair("$count", "true")
            .append_pair("$select", USER_SELECT)
            .append_pair("$top", &top.to_string());
        let mut req = read(url, "guest search");
        req.eventual = true;
        let call = self.send(req, json::<Collection<GraphUser>>).await?;
        Ok(Call {
            value: call.value.value,
            request_id: call.request_id,
        })
    }
}

/// Inside a `$search` clause a double quote or a backslash is escaped with
/// a backslash; everything else is taken as written (and URL-encoded).
fn search_text(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    #[test]
    fn search_text_escapes_quotes_and_backslashes() {
        assert_eq!(super::search_text(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(super::search_text("Liam O'Connor"), "Liam O'Connor");
    }
}
