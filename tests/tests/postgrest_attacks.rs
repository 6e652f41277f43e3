//! The attack matrix through real PostgREST 12: every credential that must not write, times
//! every way to write. Each attempt must be refused and leave the table as it was. Through the
//! stack's gateway with the publishable key (what an attacker holds on Supabase), and again
//! (`legacy_…`) against PostgREST's own port with the legacy anon key, as self-hosters run it.
//!
//! A binary of its own, so the ETL-flow tests never run beside it; its checksums leave out the
//! flow tests' own rows (`it_flow_…`) all the same. The control test here only touches rows
//! with that prefix.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use vantage_sync_tests::spec::{FLOW_PREFIX, flow_resource};
use vantage_sync_tests::{
    ApiKeys, Credential, CredentialKind, Db, Request, Response, Rest, Result, Stack,
};

/// What each write aims at.
struct Targets {
    /// The `resource` a plain insert creates.
    insert: String,
    /// The `resource` an upsert overwrites.
    upsert: String,
    /// The query string of PATCH and DELETE (empty: every row).
    filter: String,
    /// The resource the RPCs start and complete.
    rpc: String,
    /// The resource the RPCs start and mark as failed.
    rpc_fail: String,
}

/// Every way to write through PostgREST, as supabase-js would send it.
fn writes(t: &Targets) -> Vec<Request> {
    let table = "/vantage_sync_state";
    vec![
        // .insert({...})
        Request::post(
            table,
            json!({ "resource": t.insert, "last_sync_status": "success", "records_synced": 1 }),
        ),
        // .upsert({...}): an existing row, overwritten
        Request::post(
            table,
            json!({ "resource": t.upsert, "last_sync_status": "failed", "records_synced": 999 }),
        )
        .header("Prefer", "resolution=merge-duplicates"),
        // .update({...}) on every row
        Request::patch(
            format!("{table}{}", t.filter),
            json!({ "records_synced": 999, "last_sync_status": "failed" }),
        ),
        Request::rpc("start_vantage_sync", json!({ "p_resource": t.rpc })),
        Request::rpc(
            "complete_vantage_sync",
            json!({ "p_resource": t.rpc, "p_records_synced": 1,
                    "p_records_created": 1, "p_records_updated": 0 }),
        ),
        Request::rpc("start_vantage_sync", json!({ "p_resource": t.rpc_fail })),
        Request::rpc(
            "fail_vantage_sync",
            json!({ "p_resource": t.rpc_fail,
                    "p_errors": [{ "code": "X", "message": "attack" }] }),
        ),
        // .delete() on every row
        Request::delete(format!("{table}{}", t.filter)),
    ]
}

/// The attacks aim at the seeded rows (and at every row for PATCH and DELETE).
fn attack_targets(kind: CredentialKind) -> Targets {
    Targets {
        insert: format!("it_attack_{kind}"),
        upsert: "accounts".to_owned(),
        filter: String::new(),
        rpc: "accounts".to_owned(),
        rpc_fail: "funds".to_owned(),
    }
}

/// PostgREST's own code in an error body (`PGRST…` or a SQLSTATE), if any.
fn error_code(response: &Response) -> Option<String> {
    match response.json() {
        Ok(Value::Object(body)) => body.get("code").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Why a refusal is not good enough, if it is not.
fn refusal_problem(kind: CredentialKind, response: &Response) -> Option<String> {
    let status = response.status();
    let allowed = matches!(status, 401 | 403 | 404) || (status == 400 && kind.is_invalid_token());
    if !allowed {
        return Some(format!("expected 401/403/404, got {response}"));
    }
    // PGRST1xx (bad request) and PGRST2xx (no such table, column or function) mean the request
    // itself was wrong: such a refusal proves nothing about the credential.
    match error_code(response) {
        Some(code) if code.starts_with("PGRST1") || code.starts_with("PGRST2") => Some(format!(
            "refused as a malformed request, not for the credential: {response}"
        )),
        _ => None,
    }
}

#[test]
fn bad_credentials_cannot_write() -> Result<()> {
    assert_bad_credentials_cannot_write(ApiKeys::Current)
}

#[test]
fn legacy_bad_credentials_cannot_write_directly() -> Result<()> {
    assert_bad_credentials_cannot_write(ApiKeys::Legacy)
}

/// Every credential that must not write, made of `keys`, × every write: through the gateway
/// for the current keys, to PostgREST's own port for the legacy ones.
fn assert_bad_credentials_cannot_write(keys: ApiKeys) -> Result<()> {
    let stack = Stack::load()?;
    let rest = match keys {
        ApiKeys::Current => Rest::new(&stack)?,
        ApiKeys::Legacy => Rest::direct(&stack)?,
    };
    let db = Db::connect(&stack)?;
    let secret = stack.jwt_secret().to_owned();
    let encoded_secret = URL_SAFE_NO_PAD.encode(secret.as_bytes());
    let secret_key = stack.secret_key()?.to_owned();
    let checksum = || db.checksum_excluding_prefix(FLOW_PREFIX);

    let start = checksum()?;
    let mut attempts = 0;
    let mut failures = Vec::new();
    for kind in CredentialKind::CANNOT_WRITE {
        let credential = Credential::with_keys(kind, &stack, keys)?;
        for request in writes(&attack_targets(kind)) {
            attempts += 1;
            let before = checksum()?;
            let response = rest.send(&request, &credential)?;
            let after = checksum()?;
            let mut problems: Vec<String> = refusal_problem(kind, &response).into_iter().collect();
            if before != after {
                problems.push(format!("the table CHANGED ({response})"));
            }
            if response.contains(&secret) || response.contains(&encoded_secret) {
                problems.push("the answer contains the JWT secret".to_owned());
            }
            if response.contains(&secret_key) {
                problems.push("the answer contains the secret key".to_owned());
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "credential {kind} ({keys:?} keys): {request}: {}",
                    problems.join("; ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {attempts} write attempts were not refused cleanly:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    assert_eq!(
        checksum()?,
        start,
        "the table changed during the attack matrix"
    );
    Ok(())
}

#[test]
fn the_same_writes_succeed_for_the_service_role() -> Result<()> {
    assert_the_same_writes_succeed_for_the_service_role(ApiKeys::Current)
}

#[test]
fn legacy_the_same_writes_succeed_for_the_service_role_key_directly() -> Result<()> {
    assert_the_same_writes_succeed_for_the_service_role(ApiKeys::Legacy)
}

fn assert_the_same_writes_succeed_for_the_service_role(keys: ApiKeys) -> Result<()> {
    // The control: the matrix's requests are well-formed, so their refusals above come from
    // the credentials. Aimed at rows of this test's own.
    let stack = Stack::load()?;
    let rest = match keys {
        ApiKeys::Current => Rest::new(&stack)?,
        ApiKeys::Legacy => Rest::direct(&stack)?,
    };
    let db = Db::connect(&stack)?;
    let service = Credential::with_keys(CredentialKind::ServiceRole, &stack, keys)?;
    let own = flow_resource(match keys {
        ApiKeys::Current => "control",
        ApiKeys::Legacy => "legacy_control",
    });
    let targets = Targets {
        insert: format!("{own}_row"),
        upsert: format!("{own}_row"),
        filter: format!("?resource=like.{own}*"),
        rpc: format!("{own}_ok"),
        rpc_fail: format!("{own}_failing"),
    };
    for request in writes(&targets) {
        let response = rest.send(&request, &service)?;
        assert!(
            response.is_success(),
            "service_role ({keys:?} keys): {request} must succeed: {response}"
        );
    }
    let sql = "SELECT count(*) FROM public.vantage_sync_state WHERE starts_with(resource, $1)";
    let left: i64 = db.query_one(sql, &[&own])?.try_get(0)?;
    assert_eq!(left, 0, "the control's DELETE must remove its rows");
    Ok(())
}
