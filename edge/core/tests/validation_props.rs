//! Random bodies thrown at every route through the whole handler, with a valid writer token or
//! admin session and an upstream that accepts everything: never a panic, never a 5xx. What
//! reaches the upstream is always valid.

#![allow(clippy::unwrap_used)]

mod support;

use http::Method;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use support::{RUN, Reply, TestEdge, WRITER, hs256_user, reply_json};

fn accepting() -> TestEdge {
    TestEdge::new(|request| match request.uri().path() {
        p if p.ends_with("/rpc/start_vantage_sync_run") => reply_json(
            200,
            &json!({"run_id": RUN, "started_at": "2026-11-24T10:00:00+00:00"}),
        ),
        p if p.ends_with("/rpc/abort_vantage_sync") => reply_json(200, &json!(RUN)),
        p if p.ends_with("/rpc/progress_vantage_sync_run") => {
            reply_json(200, &json!("2026-12-08T09:00:00+00:00"))
        }
        p if p.ends_with("/vantage_sync_state") => reply_json(
            200,
            &json!([{"last_sync_status":"running","current_run_id":RUN}]),
        ),
        _ => Reply::Status(204),
    })
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,80}".prop_map(Value::String),
        "[a-z_]{1,70}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects with the routes' own field names and random values: most get past JSON parsing
/// and exercise each field's checks.
fn near_valid_body() -> impl Strategy<Value = Value> {
    let names = prop::sample::select(vec![
        "resource",
        "run_id",
        "records_synced",
        "records_created",
        "records_updated",
        "errors",
        "reason",
        "code",
        "message",
    ]);
    let value = prop_oneof![
        any_json(),
        (0u64..=3_000_000_000).prop_map(|n| json!(n)),
        Just(json!(RUN)),
        Just(json!("accounts")),
        prop::collection::vec(
            prop::collection::btree_map(
                prop::sample::select(vec!["code", "message", "extra"]),
                any_json(),
                0..4
            ),
            0..4
        )
        .prop_map(|errors| json!(
            errors
                .into_iter()
                .map(|e| Value::Object(
                    e.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>()
                ))
                .collect::<Vec<_>>()
        )),
    ];
    prop::collection::btree_map(names, value, 0..6)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

fn route() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["start", "complete", "fail", "progress", "abort"])
}

fn check(edge: &TestEdge, route: &str, body: &[u8]) -> Result<(), TestCaseError> {
    let auth = if route == "abort" {
        format!("Bearer {}", hs256_user(3600, true))
    } else {
        format!("Bearer {WRITER}")
    };
    let answer = edge.request(
        Method::POST,
        &format!("/functions/v1/vantage-sync/{route}"),
        Some(&auth),
        Some("application/json"),
        body,
    );
    prop_assert!(
        answer.status < 500,
        "{route}: {} {}",
        answer.status,
        answer.body
    );
    prop_assert!(
        answer.status == 200 || !answer.code().is_empty(),
        "{}",
        answer.body
    );
    if answer.status != 200 {
        prop_assert_eq!(
            edge.calls(),
            0,
            "a refused body reached the upstream: {}",
            answer.body
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic_or_5xx(route in route(), body in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&accepting(), route, &body)?;
    }

    #[test]
    fn random_json_never_panics_or_5xx(route in route(), body in any_json()) {
        check(&accepting(), route, body.to_string().as_bytes())?;
    }

    #[test]
    fn near_valid_bodies_never_panic_or_5xx(route in route(), body in near_valid_body()) {
        check(&accepting(), route, body.to_string().as_bytes())?;
    }

    #[test]
    fn valid_completes_always_pass(
        synced in 0u32..=i32::MAX as u32,
        created_share in 0.0f64..=1.0,
        updated_share in 0.0f64..=1.0,
    ) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let created = (f64::from(synced) * created_share) as u32;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let updated = (f64::from(synced - created) * updated_share) as u32;
        let edge = accepting();
        let body = json!({"resource":"accounts","run_id":RUN,"records_synced":synced,
                          "records_created":created,"records_updated":updated});
        let answer = edge.post_as_writer("complete", &body);
        prop_assert_eq!(answer.status, 200, "{}", answer.body);
        prop_assert_eq!(edge.calls(), 1);
    }
}
