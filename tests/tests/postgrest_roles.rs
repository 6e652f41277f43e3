//! Who reads what through real PostgREST 12, and the spec's ETL flow as the service role.
//!
//! By default as Supabase clients reach it today: through the stack's gateway
//! (`{SUPABASE_URL}/rest/v1`) with the publishable and secret keys. The `legacy_…` tests do the
//! same with the legacy anon and service-role JWTs against PostgREST's own port, as self-hosters
//! without a gateway still run it.
//!
//! Tests in this binary run in parallel on one database. Reads compare with the rows the
//! database holds at that moment; the flow tests only touch resources of their own
//! (`it_flow_…`), created through `start_vantage_sync`.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use vantage_sync_tests::spec::{FLOW_PREFIX, SEEDED_RESOURCES, flow_resource, spec_errors};
use vantage_sync_tests::{
    ApiKeys, Credential, CredentialKind, Db, Request, Response, Rest, Result, Stack, SyncState,
};

/// `supabase.from('vantage_sync_state').select('*').order('resource')`.
const ALL_ROWS: &str = "/vantage_sync_state?select=*&order=resource";

struct Ctx {
    stack: Stack,
    rest: Rest,
    db: Db,
    keys: ApiKeys,
}

impl Ctx {
    /// Through the gateway, with the publishable and secret keys.
    fn new() -> Result<Self> {
        Self::with(ApiKeys::Current)
    }

    /// PostgREST's own port, with the legacy JWT keys.
    fn legacy() -> Result<Self> {
        Self::with(ApiKeys::Legacy)
    }

    fn with(keys: ApiKeys) -> Result<Self> {
        let stack = Stack::load()?;
        let rest = match keys {
            ApiKeys::Current => Rest::new(&stack)?,
            ApiKeys::Legacy => Rest::direct(&stack)?,
        };
        Ok(Self {
            rest,
            db: Db::connect(&stack)?,
            stack,
            keys,
        })
    }

    fn send(&self, request: &Request, kind: CredentialKind) -> Result<Response> {
        let credential = Credential::with_keys(kind, &self.stack, self.keys)?;
        self.rest.send(request, &credential)
    }

    fn state(&self, resource: &str) -> Result<SyncState> {
        let Some(state) = self.db.state(resource)? else {
            panic!("no row for {resource} in the database")
        };
        Ok(state)
    }
}

/// True when the answer shows no row: refused, an empty array, or `.single()`'s "0 rows".
fn shows_no_rows(response: &Response, kind: CredentialKind) -> bool {
    match response.status() {
        401 | 403 => true,
        400 => kind.is_invalid_token(),
        200 => matches!(response.json(), Ok(Value::Array(rows)) if rows.is_empty()),
        406 => matches!(response.json(), Ok(body) if body["code"] == "PGRST116"),
        _ => false,
    }
}

fn assert_sees_no_rows(ctx: &Ctx, kind: CredentialKind) -> Result<()> {
    // The table has rows, so an empty answer is the policy at work, not an empty table.
    let present = ctx.db.resources()?;
    assert!(
        SEEDED_RESOURCES.iter().all(|r| present.contains(*r)),
        "the seeded rows are missing from the database: {present:?}"
    );
    let requests = [
        Request::get(ALL_ROWS),
        Request::get("/vantage_sync_state?select=resource&resource=eq.accounts").single(),
    ];
    for request in &requests {
        let response = ctx.send(request, kind)?;
        assert!(
            shows_no_rows(&response, kind),
            "credential {kind} ({:?} keys): {request} must show no rows, got {response}",
            ctx.keys
        );
    }
    Ok(())
}

#[test]
fn anon_sees_no_rows() -> Result<()> {
    assert_sees_no_rows(&Ctx::new()?, CredentialKind::Anon)
}

#[test]
fn legacy_anon_key_sees_no_rows_directly() -> Result<()> {
    assert_sees_no_rows(&Ctx::legacy()?, CredentialKind::Anon)
}

#[test]
fn credentials_other_than_a_valid_user_or_the_service_see_no_rows() -> Result<()> {
    let ctx = Ctx::new()?;
    for kind in CredentialKind::CANNOT_READ {
        assert_sees_no_rows(&ctx, kind)?;
    }
    Ok(())
}

#[test]
fn legacy_credentials_other_than_a_valid_user_or_the_service_see_no_rows_directly() -> Result<()> {
    let ctx = Ctx::legacy()?;
    for kind in CredentialKind::CANNOT_READ {
        assert_sees_no_rows(&ctx, kind)?;
    }
    Ok(())
}

/// Reads every row as `kind` and checks the answer is exactly what the database holds.
fn assert_reads_every_row(ctx: &Ctx, kind: CredentialKind) -> Result<()> {
    // Flow tests may add their own rows meanwhile (never remove any): what PostgREST returns
    // must lie between what the database held just before and just after.
    let before = ctx.db.resources()?;
    let response = ctx.send(&Request::get(ALL_ROWS), kind)?;
    let after = ctx.db.resources()?;
    let kind = format!("{kind} ({:?} keys)", ctx.keys);
    assert_eq!(response.status(), 200, "{kind}: GET {ALL_ROWS}: {response}");
    let Value::Array(rows) = response.json()? else {
        panic!("{kind}: GET {ALL_ROWS} did not return an array: {response}");
    };
    let names: BTreeSet<String> = rows
        .iter()
        .map(|row| row["resource"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        names.len(),
        rows.len(),
        "{kind}: duplicate or unnamed rows: {response}"
    );
    let missing: Vec<&str> = SEEDED_RESOURCES
        .into_iter()
        .filter(|r| !names.contains(*r))
        .collect();
    assert!(
        missing.is_empty(),
        "{kind}: seeded rows not returned: {missing:?}"
    );
    assert!(
        before.is_subset(&names),
        "{kind}: rows the database held were not returned: {:?}",
        before.difference(&names).collect::<Vec<_>>()
    );
    assert!(
        names.is_subset(&after),
        "{kind}: returned rows the database does not hold: {:?}",
        names.difference(&after).collect::<Vec<_>>()
    );
    // Nothing writes the seeded rows, so their every column must match the database's.
    let differing = ctx.db.rows_differing(response.body(), &SEEDED_RESOURCES)?;
    assert!(
        differing.is_empty(),
        "{kind}: these rows differ from the database: {differing:?}"
    );
    Ok(())
}

#[test]
fn authenticated_es256_reads_every_row_the_database_holds() -> Result<()> {
    assert_reads_every_row(&Ctx::new()?, CredentialKind::Authenticated)
}

#[test]
fn authenticated_legacy_hs256_reads_every_row_the_database_holds() -> Result<()> {
    assert_reads_every_row(&Ctx::new()?, CredentialKind::AuthenticatedLegacy)
}

#[test]
fn legacy_anon_key_with_a_user_token_reads_every_row_directly() -> Result<()> {
    let ctx = Ctx::legacy()?;
    assert_reads_every_row(&ctx, CredentialKind::Authenticated)?;
    assert_reads_every_row(&ctx, CredentialKind::AuthenticatedLegacy)
}

#[test]
fn the_row_comparison_notices_a_changed_or_missing_row() -> Result<()> {
    // The read tests rely on Db::rows_differing: it must see a one-column change and a gap.
    let ctx = Ctx::new()?;
    let response = ctx.send(&Request::get(ALL_ROWS), CredentialKind::Authenticated)?;
    let Value::Array(mut rows) = response.json()? else {
        panic!("GET {ALL_ROWS} did not return an array: {response}");
    };
    for row in &mut rows {
        if row["resource"] == "accounts" {
            row["records_synced"] = json!(row["records_synced"].as_i64().unwrap_or(0) + 1);
        }
    }
    rows.retain(|row| row["resource"] != "funds");
    let differing = ctx
        .db
        .rows_differing(&Value::Array(rows).to_string(), &SEEDED_RESOURCES)?;
    assert_eq!(differing, ["accounts", "funds"]);
    Ok(())
}

#[test]
fn authenticated_frontend_query_returns_one_object() -> Result<()> {
    // The spec's frontend example: .select('resource, last_sync_status, last_sync_time,
    // duration_ms').eq('resource', 'accounts').single()
    let ctx = Ctx::new()?;
    let request = Request::get(
        "/vantage_sync_state?select=resource,last_sync_status,last_sync_time,duration_ms\
         &resource=eq.accounts",
    )
    .single();
    let response = ctx.send(&request, CredentialKind::Authenticated)?;
    assert_eq!(response.status(), 200, "{request}: {response}");
    let Value::Object(object) = response.json()? else {
        panic!("{request}: .single() must return an object: {response}");
    };
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut expected = vec![
        "resource",
        "last_sync_status",
        "last_sync_time",
        "duration_ms",
    ];
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected, "{request}: {response}");
    assert_eq!(object["resource"], "accounts");
    let state = ctx.state("accounts")?;
    assert_eq!(object["last_sync_status"], json!(state.last_sync_status));
    assert_eq!(object["duration_ms"], json!(state.duration_ms));
    Ok(())
}

#[test]
fn error_bodies_never_leak_the_jwt_secret() -> Result<()> {
    assert_error_bodies_leak_nothing(&Ctx::new()?)
}

#[test]
fn legacy_error_bodies_never_leak_the_jwt_secret_directly() -> Result<()> {
    assert_error_bodies_leak_nothing(&Ctx::legacy()?)
}

fn assert_error_bodies_leak_nothing(ctx: &Ctx) -> Result<()> {
    let secret = ctx.stack.jwt_secret().to_owned();
    let encoded = URL_SAFE_NO_PAD.encode(secret.as_bytes());
    let service_key = ctx.stack.service_role_key().to_owned();
    let secret_key = ctx.stack.secret_key()?.to_owned();
    let mut failing: Vec<(Request, CredentialKind)> = Vec::new();
    for kind in CredentialKind::CANNOT_WRITE {
        failing.push((
            Request::rpc("start_vantage_sync", json!({ "p_resource": "accounts" })),
            kind,
        ));
        failing.push((Request::delete("/vantage_sync_state"), kind));
    }
    for kind in CredentialKind::CANNOT_READ {
        failing.push((Request::get(ALL_ROWS), kind));
    }
    // A database error raised inside a function, as the service role.
    failing.push((
        Request::rpc(
            "complete_vantage_sync",
            json!({ "p_resource": format!("{FLOW_PREFIX}never_started"),
                    "p_records_synced": 1, "p_records_created": 1, "p_records_updated": 0 }),
        ),
        CredentialKind::ServiceRole,
    ));
    for (request, kind) in &failing {
        let response = ctx.send(request, *kind)?;
        let kind = format!("{kind} ({:?} keys)", ctx.keys);
        assert!(
            !response.is_success(),
            "credential {kind}: {request} was expected to fail: {response}"
        );
        for (what, needle) in [
            ("the JWT secret", &secret),
            ("the JWT secret (base64url, as in the JWKS)", &encoded),
            ("the service-role key", &service_key),
            ("the secret key", &secret_key),
        ] {
            assert!(
                !response.contains(needle),
                "credential {kind}: {request}: the answer contains {what}"
            );
        }
    }
    Ok(())
}

// ---- the spec's ETL flow, as the service role --------------------------------------------

fn assert_rpc_ok(ctx: &Ctx, request: &Request) -> Result<()> {
    let response = ctx.send(request, CredentialKind::ServiceRole)?;
    assert!(
        matches!(response.status(), 200 | 204),
        "service_role: {request}: {response}"
    );
    Ok(())
}

/// Steps 1 and 2 of the spec's flow: start, then read the watermark with `.single()`.
/// Returns the watermark as PostgREST rendered it.
fn start_and_read_watermark(ctx: &Ctx, resource: &str) -> Result<Option<String>> {
    assert_rpc_ok(
        ctx,
        &Request::rpc("start_vantage_sync", json!({ "p_resource": resource })),
    )?;
    let state = ctx.state(resource)?;
    assert_eq!(state.last_sync_status, "running", "{resource} after start");
    assert!(
        state.started_at_us.is_some(),
        "{resource}: started_at unset after start"
    );
    assert_eq!(
        state.completed_at_us, None,
        "{resource}: completed_at kept after start"
    );
    assert_eq!(
        state.duration_ms, None,
        "{resource}: duration_ms kept after start"
    );

    let request = Request::get(format!(
        "/vantage_sync_state?select=last_sync_time&resource=eq.{resource}"
    ))
    .single();
    let response = ctx.send(&request, CredentialKind::ServiceRole)?;
    assert_eq!(
        response.status(),
        200,
        "service_role: {request}: {response}"
    );
    let Value::Object(object) = response.json()? else {
        panic!("service_role: {request}: .single() must return an object: {response}");
    };
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        ["last_sync_time"],
        "{request}: {response}"
    );
    let watermark = match &object["last_sync_time"] {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => panic!("{request}: last_sync_time is neither null nor a string: {other}"),
    };
    let read_us = watermark
        .as_deref()
        .map(|t| ctx.db.timestamp_us(t))
        .transpose()?;
    assert_eq!(
        read_us, state.last_sync_time_us,
        "{resource}: .single() returned a watermark the database does not hold"
    );
    Ok(watermark)
}

/// The trigger's duration: `completed_at - started_at`, in whole milliseconds.
fn assert_duration(resource: &str, state: &SyncState) {
    let (Some(started), Some(completed)) = (state.started_at_us, state.completed_at_us) else {
        panic!("{resource}: started_at and completed_at must both be set: {state:?}");
    };
    assert!(
        completed >= started,
        "{resource}: completed before it started: {state:?}"
    );
    let Some(duration) = state.duration_ms else {
        panic!("{resource}: duration_ms unset after completion: {state:?}");
    };
    assert!(duration >= 0, "{resource}: negative duration: {state:?}");
    let expected = (completed - started + 500) / 1000;
    assert_eq!(
        i64::from(duration),
        expected,
        "{resource}: duration_ms: {state:?}"
    );
}

/// One successful run of the spec's flow; returns the row afterwards.
fn successful_sync(ctx: &Ctx, resource: &str, counts: [i32; 3]) -> Result<SyncState> {
    start_and_read_watermark(ctx, resource)?;
    let before = ctx.state(resource)?;
    let [synced, created, updated] = counts;
    assert_rpc_ok(
        ctx,
        &Request::rpc(
            "complete_vantage_sync",
            json!({
                "p_resource": resource,
                "p_records_synced": synced,
                "p_records_created": created,
                "p_records_updated": updated,
            }),
        ),
    )?;
    let after = ctx.state(resource)?;
    assert_eq!(after.last_sync_status, "success", "{resource}: {after:?}");
    assert_eq!(
        [
            after.records_synced,
            after.records_created,
            after.records_updated
        ],
        counts,
        "{resource}: counts"
    );
    assert_eq!(after.errors, json!([]), "{resource}: errors after success");
    assert_eq!(
        after.started_at_us, before.started_at_us,
        "{resource}: started_at moved"
    );
    assert_eq!(
        after.last_sync_time_us, after.completed_at_us,
        "{resource}: the watermark must be the completion time"
    );
    let (Some(new), old) = (after.last_sync_time_us, before.last_sync_time_us) else {
        panic!("{resource}: success left no watermark: {after:?}");
    };
    assert!(
        old.is_none_or(|old| new > old),
        "{resource}: the watermark did not advance: {old:?} -> {new}"
    );
    assert_duration(resource, &after);
    Ok(after)
}

#[test]
fn service_role_etl_flow_success_advances_the_watermark() -> Result<()> {
    assert_success_advances_the_watermark(&Ctx::new()?, "success")
}

#[test]
fn legacy_service_role_key_etl_flow_success_advances_the_watermark_directly() -> Result<()> {
    assert_success_advances_the_watermark(&Ctx::legacy()?, "legacy_success")
}

fn assert_success_advances_the_watermark(ctx: &Ctx, test: &str) -> Result<()> {
    let resource = flow_resource(test);
    let first = successful_sync(ctx, &resource, [150, 10, 140])?;
    let second = successful_sync(ctx, &resource, [12, 2, 10])?;
    assert!(
        second.last_sync_time_us > first.last_sync_time_us,
        "the second success must advance the watermark: {first:?} -> {second:?}"
    );
    Ok(())
}

fn fail_sync(ctx: &Ctx, resource: &str) -> Result<SyncState> {
    assert_rpc_ok(
        ctx,
        &Request::rpc(
            "fail_vantage_sync",
            json!({ "p_resource": resource, "p_errors": spec_errors() }),
        ),
    )?;
    let after = ctx.state(resource)?;
    assert_eq!(after.last_sync_status, "failed", "{resource}: {after:?}");
    assert_eq!(after.errors, spec_errors(), "{resource}: stored errors");
    assert_duration(resource, &after);
    Ok(after)
}

#[test]
fn service_role_etl_flow_failure_keeps_the_watermark_and_stores_errors() -> Result<()> {
    let ctx = Ctx::new()?;
    let resource = flow_resource("failure");
    let succeeded = successful_sync(&ctx, &resource, [5, 5, 0])?;
    let watermark = start_and_read_watermark(&ctx, &resource)?;
    assert!(
        watermark.is_some(),
        "{resource}: no watermark after a success"
    );
    let failed = fail_sync(&ctx, &resource)?;
    assert_eq!(
        failed.last_sync_time_us, succeeded.last_sync_time_us,
        "{resource}: a failed sync moved the watermark"
    );
    Ok(())
}

#[test]
fn service_role_etl_flow_failure_of_a_first_sync_leaves_no_watermark() -> Result<()> {
    let ctx = Ctx::new()?;
    let resource = flow_resource("first_failure");
    assert!(
        ctx.db.state(&resource)?.is_none(),
        "{resource} already exists"
    );
    let watermark = start_and_read_watermark(&ctx, &resource)?;
    assert_eq!(watermark, None, "{resource}: a new row has a watermark");
    let failed = fail_sync(&ctx, &resource)?;
    assert_eq!(
        failed.last_sync_time_us, None,
        "{resource}: a failure set a watermark"
    );
    assert_eq!(
        [
            failed.records_synced,
            failed.records_created,
            failed.records_updated
        ],
        [0, 0, 0],
        "{resource}: a failure recorded counts"
    );
    Ok(())
}
