//! The spec is the contract: the router and `openapi.yaml` list the same
//! routes, every problem type is documented, and real answers validate
//! against the documented schemas.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

mod common;

use std::collections::BTreeSet;

use common::{TestApp, tenant};
use guest_reset::http::{OPENAPI, ROUTES};
use guest_reset::problem::ProblemType;
use serde_json::{Value, json};

fn spec() -> Value {
    yaml_serde::from_str(OPENAPI).expect("openapi.yaml parses")
}

#[test]
fn router_and_spec_have_the_same_routes() {
    let spec = spec();
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete", "head", "options"]
                .contains(&method.as_str())
            {
                documented.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let routed: BTreeSet<_> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(routed, documented);
}

#[test]
fn every_problem_type_is_documented_and_nothing_else() {
    let spec = spec();
    let documented: BTreeSet<String> = spec["components"]["schemas"]["ProblemType"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let catalogue: BTreeSet<String> = ProblemType::ALL.iter().map(|p| p.uri()).collect();
    assert_eq!(catalogue, documented);
}

/// Every problem type has a worked example under `components.examples`,
/// named after it, whose type, title and status are the catalogue's.
#[test]
fn every_problem_type_has_a_matching_example() {
    let spec = spec();
    let examples = spec["components"]["examples"]
        .as_object()
        .expect("components.examples");
    for kind in ProblemType::ALL {
        let name: String = kind
            .slug()
            .split('-')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        let value = &examples
            .get(&name)
            .unwrap_or_else(|| panic!("no example {name}"))["value"];
        assert_eq!(value["type"], kind.uri(), "{name}");
        assert_eq!(value["title"], kind.title(), "{name}");
        assert_eq!(value["status"], kind.status(), "{name}");
        assert!(
            value["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
    }
    assert_eq!(
        examples.len(),
        ProblemType::ALL.len(),
        "an example for a problem type that does not exist"
    );
}

/// Validate `body` against the schema the spec gives for this answer.
fn conforms(spec: &Value, path: &str, method: &str, status: u16, content_type: &str, body: &Value) {
    let response = &spec["paths"][path][method]["responses"][status.to_string()];
    let response = match response["$ref"].as_str() {
        Some(r) => &spec["components"]["responses"][r.rsplit('/').next().unwrap()],
        None => response,
    };
    let media = content_type.split(';').next().unwrap().trim();
    let schema = &response["content"][media]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path} {status} {media} is not documented"
    );
    let registry = jsonschema::Registry::new()
        .add("urn:openapi", spec.clone())
        .unwrap()
        .prepare()
        .unwrap();
    let pointer = schema_pointer(spec, schema, path, method, status, media);
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&json!({ "$ref": pointer }))
        .expect("schema builds");
    let errors: Vec<String> = validator.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {errors:?}\n{body}"
    );
}

/// A `urn:openapi#...` reference to the schema inside the spec document.
fn schema_pointer(
    spec: &Value,
    schema: &Value,
    path: &str,
    method: &str,
    status: u16,
    media: &str,
) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        return format!("urn:openapi{r}");
    }
    let escaped = path.replace('~', "~0").replace('/', "~1");
    let inline = format!(
        "/paths/{escaped}/{method}/responses/{status}/content/{}/schema",
        media.replace('/', "~1")
    );
    assert_eq!(
        spec.pointer(&inline),
        Some(schema),
        "inline schemas live in the path item"
    );
    format!("urn:openapi#{inline}")
}

async fn check(spec: &Value, method: &str, path: &str, request: reqwest::RequestBuilder) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = if content_type.contains("json") {
        response.json().await.unwrap()
    } else {
        Value::String(response.text().await.unwrap())
    };
    conforms(spec, path, method, status, &content_type, &body);
    body
}

#[tokio::test]
async fn every_route_answers_as_documented() {
    let app = TestApp::spawn().await;
    let spec = spec();
    let url = |p: &str| format!("{}{p}", app.base);
    let post = |mut body: Value| {
        if body.get("user").is_some() {
            body["ticket"] = json!("INC-42");
            body["reason"] = json!("contract test");
        }
        app.client
            .post(url("/v1/resets"))
            .bearer_auth(app.token())
            .json(&body)
    };
    let posts = [
        json!({ "user": tenant::ADELE_MAIL, "new_email": tenant::ADELE_NEW_MAIL }),
        json!({ "user": tenant::PENDING_GUEST_MAIL, "send_invitation_message": false }),
        json!({ "user": tenant::PENDING_GUEST_MAIL, "dry_run": true }),
        json!({ "user": tenant::MEMBER_MAIL }),
        json!({ "user": "lee.gu@tailspin.example" }),
        json!({ "usr": 1 }),
    ];
    let mut answers = Vec::new();
    for body in posts {
        answers.push(check(&spec, "post", "/v1/resets", post(body)).await);
    }
    let created = &answers[0];
    check(
        &spec,
        "post",
        "/v1/resets",
        app.client.post(url("/v1/resets")).json(&json!({})),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let reads = [
        ("/v1/resets/{id}", format!("/v1/resets/{id}")),
        ("/v1/resets/{id}", "/v1/resets/nope".to_owned()),
        ("/v1/resets", "/v1/resets?limit=2".to_owned()),
        ("/v1/resets", "/v1/resets?limit=0".to_owned()),
    ];
    for (template, path) in reads {
        check(
            &spec,
            "get",
            template,
            app.client.get(url(&path)).bearer_auth(app.token()),
        )
        .await;
    }
    let admin = app.token_with(json!({ "roles": ["GuestReset.Admin"] }));
    let reload = "/v1/admin/policy/reload";
    for token in [app.token(), admin] {
        check(
            &spec,
            "post",
            reload,
            app.client.post(url(reload)).bearer_auth(&token),
        )
        .await;
        check(
            &spec,
            "get",
            "/v1/whoami",
            app.client.get(url("/v1/whoami")).bearer_auth(&token),
        )
        .await;
    }
    let auditor_reads = app
        .client
        .get(url("/v1/resets"))
        .bearer_auth(app.auditor_token());
    check(&spec, "get", "/v1/resets", auditor_reads).await;
    let no_role = app.token_with(json!({ "roles": [] }));
    check(
        &spec,
        "get",
        "/v1/resets",
        app.client.get(url("/v1/resets")).bearer_auth(&no_role),
    )
    .await;
    check(
        &spec,
        "post",
        "/v1/resets",
        app.client
            .post(url("/v1/resets"))
            .bearer_auth(&no_role)
            .json(&json!({})),
    )
    .await;
    for path in ["/healthz", "/readyz", "/openapi.yaml", "/metrics"] {
        check(&spec, "get", path, app.client.get(url(path))).await;
    }
}
