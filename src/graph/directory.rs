//! Listing guests for a domain move: Graph's advanced query on `/users`
//! (`endswith` needs `ConsistencyLevel: eventual` and `$count=true`),
//! following every `@odata.nextLink`.

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
}
