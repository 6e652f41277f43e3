//! The edge function through the stack's native server, against real PostgREST and Postgres:
//! every route, every error code, the ETL flow checked in SQL, and what must never happen
//! (a write without credentials, SQL text or keys in an answer).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use vantage_sync_tests::edge::{ALLOWED_ORIGIN, Edge, FUNCTION_PATH, expect};
use vantage_sync_tests::spec::{flow_resource, spec_errors};
use vantage_sync_tests::tokens::{legacy_token, unix_now};
use vantage_sync_tests::{Db, Error, Result, Stack, check};

/// The demo admin's e-mail (the stack's `AUTHENTICATED_JWT`).
const DEMO_ADMIN: &str = "admin@vantage.local";

fn setup() -> Result<(Stack, Edge, Db)> {
    let stack = Stack::load()?;
    let edge = Edge::load(&stack)?;
    let db = Db::connect(&stack)?;
    Ok((stack, edge, db))
}

/// Claims of a Supabase session token.
fn user_claims(expires_in: i64, admin: bool, email: &str) -> Value {
    let now = unix_now();
    json!({
        "iss": "http://127.0.0.1/auth/v1", "aud": "authenticated", "role": "authenticated",
        "sub": "7e570000-0000-4000-8000-000000000001", "email": email,
        "iat": now - 60, "exp": now + expires_in,
        "app_metadata": { "provider": "email", "vantage_sync_admin": admin },
    })
}

fn hs256(stack: &Stack, claims: &Value) -> Result<String> {
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(stack.jwt_secret().as_bytes()),
    )?)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn start(edge: &Edge, resource: &str) -> Result<String> {
    let answer = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&answer, 200, "")?;
    answer.json()["run_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Edge(format!("no run_id in {answer}")))
}

/// How many history rows `resource` has.
fn runs_of(db: &Db, resource: &str) -> Result<i64> {
    Ok(db
        .query_one(
            "SELECT count(*) FROM public.vantage_sync_runs WHERE resource = $1",
            &[&resource],
        )?
        .try_get(0)?)
}

#[test]
fn start_then_complete_is_recorded_with_the_database_clock() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_ok");
    let answer = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&answer, 200, "")?;
    let body = answer.json();
    let run_id = body["run_id"].as_str().unwrap_or_default().to_owned();
    check(body["resource"] == resource.as_str(), || {
        format!("{answer}")
    })?;
    let row = db.query_one(
        "SELECT last_sync_status, current_run_id::text, started_at = $2::text::timestamptz
           FROM public.vantage_sync_state WHERE resource = $1",
        &[
            &resource,
            &body["started_at"].as_str().unwrap_or("-infinity"),
        ],
    )?;
    let (status, current, same_start): (String, String, bool) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    check(
        status == "running" && current == run_id && same_start,
        || {
            format!(
                "state after start: {status} {current} started_at matches: {same_start}; {answer}"
            )
        },
    )?;

    let answer = edge.post_as_writer(
        "complete",
        &json!({ "resource": resource, "run_id": run_id, "records_synced": 150,
                 "records_created": 10, "records_updated": 140 }),
    )?;
    expect(&answer, 200, "")?;
    check(
        answer.json()
            == json!({ "resource": resource, "run_id": run_id, "status": "success",
                       "records_synced": 150, "records_created": 10, "records_updated": 140,
                       "counts_reported": true }),
        || format!("{answer}"),
    )?;
    let state = db
        .state(&resource)?
        .ok_or_else(|| Error::Edge("no row".into()))?;
    check(
        state.last_sync_status == "success"
            && (
                state.records_synced,
                state.records_created,
                state.records_updated,
            ) == (150, 10, 140)
            && state.last_sync_time_us.is_some()
            && state.last_sync_time_us == state.completed_at_us,
        || format!("{state:?}"),
    )
}

/// The ETL job's loop: the first start answers `sync_watermark` null (sync everything); once a
/// run succeeded, every start answers that run's `started_at` as the point to sync from, and a
/// failed run in between does not move it.
#[test]
fn start_answers_the_watermark_to_sync_from() -> Result<()> {
    let (_, edge, _) = setup()?;
    let resource = flow_resource("e_watermark");
    let first = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&first, 200, "")?;
    let first = first.json();
    check(first["sync_watermark"].is_null(), || {
        format!("the first start: {first}")
    })?;
    let complete = edge.post_as_writer(
        "complete",
        &json!({ "resource": resource, "run_id": first["run_id"], "records_synced": 1,
                 "records_created": 1, "records_updated": 0 }),
    )?;
    expect(&complete, 200, "")?;
    for finish in ["fail", "complete"] {
        let answer = edge.post_as_writer("start", &json!({ "resource": resource }))?;
        expect(&answer, 200, "")?;
        let body = answer.json();
        check(body["sync_watermark"] == first["started_at"], || {
            format!("the start after a success answers its started_at: {body}, first {first}")
        })?;
        let done = if finish == "fail" {
            edge.post_as_writer(
                "fail",
                &json!({ "resource": resource, "run_id": body["run_id"], "errors": spec_errors() }),
            )?
        } else {
            edge.post_as_writer(
                "complete",
                &json!({ "resource": resource, "run_id": body["run_id"], "records_synced": 1,
                         "records_created": 0, "records_updated": 1 }),
            )?
        };
        expect(&done, 200, "")?;
    }
    Ok(())
}

#[test]
fn start_then_fail_keeps_the_errors_and_the_watermark() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_fail");
    let run_id = start(&edge, &resource)?;
    let answer = edge.post_as_writer(
        "fail",
        &json!({ "resource": resource, "run_id": run_id, "errors": spec_errors() }),
    )?;
    expect(&answer, 200, "")?;
    check(
        answer.json()["status"] == "failed" && answer.json()["error_count"] == 2,
        || format!("{answer}"),
    )?;
    let state = db
        .state(&resource)?
        .ok_or_else(|| Error::Edge("no row".into()))?;
    check(
        state.last_sync_status == "failed"
            && state.errors == spec_errors()
            && state.last_sync_time_us.is_none(),
        || format!("{state:?}"),
    )
}

#[test]
fn fail_says_when_the_retry_policy_allows_the_next_attempt() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_retry");
    db.query(
        "INSERT INTO public.vantage_sync_schedules (resource, retry_max_attempts, retry_initial_backoff)
         VALUES ($1, 2, interval '10 minutes')",
        &[&resource],
    )?;
    let errors = json!([{ "code": "E", "message": "boom" }]);
    let run = start(&edge, &resource)?;
    let failed = edge.post_as_writer(
        "fail",
        &json!({ "resource": resource, "run_id": run, "errors": errors }),
    )?;
    expect(&failed, 200, "")?;
    let body = failed.json();
    check(
        body["attempt"] == 1 && body["max_attempts"] == 2 && body["will_retry"] == true,
        || format!("fail's answer: {body}"),
    )?;
    let next = body["next_attempt_at"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    check(!next.is_empty(), || format!("no next_attempt_at: {body}"))?;

    // Too early: 409 with the time, and nothing changes.
    let early = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&early, 409, "conflict")?;
    check(
        early.json()["error"]["retry"]["next_attempt_at"] == next.as_str()
            && early.json()["error"]["retry"]["attempt"] == 2
            && early.body.contains("may not start before"),
        || format!("the early start's refusal: {early}"),
    )?;
    check(runs_of(&db, &resource)? == 1, || {
        "a refused start wrote a run".into()
    })?;

    // Once due (time moved on by hand), attempt 2 fails too and the policy gives up.
    db.query(
        "UPDATE public.vantage_sync_state SET next_attempt_at = now() WHERE resource = $1",
        &[&resource],
    )?;
    let run = start(&edge, &resource)?;
    let failed = edge.post_as_writer(
        "fail",
        &json!({ "resource": resource, "run_id": run, "errors": errors }),
    )?;
    let body = failed.json();
    check(
        body["attempt"] == 2 && body["will_retry"] == false && body["next_attempt_at"].is_null(),
        || format!("the last attempt's answer: {body}"),
    )?;
    let health = edge.get("health", Some(&edge.writer_auth()))?;
    let row = health.json()["resources"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["resource"] == resource.as_str())
                .cloned()
        })
        .unwrap_or_default();
    check(
        row["alerts"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "retries_exhausted")),
        || format!("health after giving up: {row}"),
    )
}

#[test]
fn a_second_start_is_409_with_the_current_run() -> Result<()> {
    let (_, edge, _) = setup()?;
    let resource = flow_resource("e_twice");
    let run_id = start(&edge, &resource)?;
    let answer = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&answer, 409, "conflict")?;
    let current = &answer.json()["error"]["current_run"];
    check(
        current["run_id"] == run_id.as_str()
            && current["status"] == "running"
            && current["started_at"].is_string(),
        || format!("{answer}"),
    )?;
    check(
        answer.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&run_id),
        || format!("{answer}"),
    )
}

#[test]
fn a_retried_complete_is_409_naming_the_finished_run() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_retry");
    let run_id = start(&edge, &resource)?;
    let body = json!({ "resource": resource, "run_id": run_id, "records_synced": 5,
                       "records_created": 5, "records_updated": 0 });
    expect(&edge.post_as_writer("complete", &body)?, 200, "")?;
    let before = db.state(&resource)?;
    let answer = edge.post_as_writer("complete", &body)?;
    expect(&answer, 409, "conflict")?;
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    check(
        message.contains(&run_id) && message.contains("already finished with status success"),
        || format!("{answer}"),
    )?;
    check(db.state(&resource)? == before, || {
        "the retry changed the row".into()
    })
}

#[test]
fn an_unnamed_complete_finishes_the_run_in_progress() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_unnamed");
    let run_id = start(&edge, &resource)?;
    let answer = edge.post_as_writer(
        "complete",
        &json!({ "resource": resource, "records_synced": 1, "records_created": 0, "records_updated": 1 }),
    )?;
    expect(&answer, 200, "")?;
    check(answer.json()["run_id"] == run_id.as_str(), || {
        format!("{answer}")
    })?;
    let again = edge.post_as_writer(
        "fail",
        &json!({ "resource": resource, "errors": [{ "code": "X", "message": "late" }] }),
    )?;
    expect(&again, 409, "conflict")?;
    check(
        db.state(&resource)?
            .is_some_and(|s| s.last_sync_status == "success"),
        || "the late fail changed the row".into(),
    )
}

#[test]
fn finishing_a_resource_that_never_started_is_404() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_never");
    for (route, body) in [
        (
            "complete",
            json!({ "resource": resource, "records_synced": 0, "records_created": 0, "records_updated": 0 }),
        ),
        (
            "fail",
            json!({ "resource": resource, "errors": [{ "code": "X", "message": "m" }] }),
        ),
        (
            "complete",
            json!({ "resource": resource, "run_id": "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e",
                             "records_synced": 0, "records_created": 0, "records_updated": 0 }),
        ),
    ] {
        let answer = edge.post_as_writer(route, &body)?;
        expect(&answer, 404, "unknown_resource")?;
        check(
            answer.json()["error"]["resource"] == resource.as_str(),
            || format!("{answer}"),
        )?;
    }
    check(db.state(&resource)?.is_none(), || "a row appeared".into())
}

#[test]
fn without_valid_credentials_nothing_changes() -> Result<()> {
    let (stack, edge, db) = setup()?;
    let resource = flow_resource("e_anon");
    let tampered = {
        let token = stack.authenticated_jwt();
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[2] = "AAAA";
        parts.join(".")
    };
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("none", None),
        ("empty bearer", Some("Bearer ".into())),
        ("basic", Some("Basic dmFudGFnZTpzeW5j".into())),
        (
            "wrong writer token",
            Some(bearer(
                "vst_0000000000000000000000000000000000000000000000000000000000000000",
            )),
        ),
        (
            "writer token with a suffix",
            Some(format!("{}x", edge.writer_auth())),
        ),
        (
            "admin's session on an ETL route",
            Some(bearer(stack.authenticated_jwt())),
        ),
        ("anon key", Some(bearer(stack.anon_key()))),
        ("service-role key", Some(bearer(stack.service_role_key()))),
        ("tampered session", Some(bearer(&tampered))),
    ];
    for (name, auth) in &credentials {
        for (route, body) in [
            ("start", json!({ "resource": resource })),
            (
                "complete",
                json!({ "resource": resource, "records_synced": 1, "records_created": 1, "records_updated": 0 }),
            ),
            (
                "fail",
                json!({ "resource": resource, "errors": [{ "code": "X", "message": "m" }] }),
            ),
        ] {
            let answer = edge.post(route, auth.as_deref(), &body)?;
            expect(&answer, 401, "unauthorized")
                .map_err(|e| Error::Edge(format!("{name} on {route}: {e}")))?;
        }
    }
    for (name, auth) in [
        ("none", None),
        ("writer-like garbage", Some(bearer("vst_nope"))),
        ("tampered session", Some(bearer(&tampered))),
        ("anon key", Some(bearer(stack.anon_key()))),
    ] {
        let answer = edge.get("health", auth.as_deref())?;
        expect(&answer, 401, "unauthorized")
            .map_err(|e| Error::Edge(format!("{name} on health: {e}")))?;
        let answer = edge.post(
            "abort",
            auth.as_deref(),
            &json!({ "resource": resource, "reason": "r" }),
        )?;
        expect(&answer, 401, "unauthorized")
            .map_err(|e| Error::Edge(format!("{name} on abort: {e}")))?;
    }
    check(
        db.state(&resource)?.is_none() && runs_of(&db, &resource)? == 0,
        || "a request without valid credentials wrote".into(),
    )
}

#[test]
fn only_sync_admins_may_abort() -> Result<()> {
    let (stack, edge, db) = setup()?;
    let resource = flow_resource("e_nonadmin");
    let run_id = start(&edge, &resource)?;
    let body = json!({ "resource": resource, "reason": "not mine to stop" });
    let plain_legacy = legacy_token(stack.jwt_secret(), "authenticated", 3600)?;
    let plain_es256 = edge.sign_es256(&user_claims(3600, false, "viewer@example.com"))?;
    for token in [plain_legacy, plain_es256] {
        expect(
            &edge.post("abort", Some(&bearer(&token)), &body)?,
            403,
            "forbidden",
        )?;
    }
    expect(
        &edge.post("abort", Some(&edge.writer_auth()), &body)?,
        403,
        "forbidden",
    )?;
    check(
        db.state(&resource)?
            .is_some_and(|s| s.last_sync_status == "running"),
        || format!("run {run_id} no longer runs"),
    )
}

#[test]
fn admins_abort_with_es256_and_legacy_hs256_sessions() -> Result<()> {
    let (stack, edge, db) = setup()?;
    let legacy_admin = hs256(&stack, &user_claims(3600, true, "legacy-admin@example.com"))?;
    for (token, who) in [
        (stack.authenticated_jwt().to_owned(), DEMO_ADMIN),
        (legacy_admin, "legacy-admin@example.com"),
    ] {
        let resource = flow_resource("e_abort");
        let run_id = start(&edge, &resource)?;
        let answer = edge.post(
            "abort",
            Some(&bearer(&token)),
            &json!({ "resource": resource, "reason": "stuck on a locked table", "run_id": run_id }),
        )?;
        expect(&answer, 200, "")?;
        check(
            answer.json()
                == json!({ "resource": resource, "run_id": run_id, "status": "failed", "aborted_by": who }),
            || format!("{answer}"),
        )?;
        let state = db
            .state(&resource)?
            .ok_or_else(|| Error::Edge("no row".into()))?;
        check(
            state.last_sync_status == "failed"
                && state.errors[0]["code"] == "ABORTED"
                && state.errors[0]["message"] == "stuck on a locked table"
                && state.errors[0]["aborted_by"] == who,
            || format!("{state:?}"),
        )?;
        let again = edge.post(
            "abort",
            Some(&bearer(&token)),
            &json!({ "resource": resource, "reason": "again" }),
        )?;
        expect(&again, 409, "conflict")?;
    }
    Ok(())
}

#[test]
fn expired_sessions_are_refused() -> Result<()> {
    let (stack, edge, _) = setup()?;
    let resource = flow_resource("e_expired");
    let expired = [
        hs256(&stack, &user_claims(-3600, true, "old@example.com"))?,
        edge.sign_es256(&user_claims(-3600, true, "old@example.com"))?,
    ];
    for token in &expired {
        let answer = edge.post(
            "abort",
            Some(&bearer(token)),
            &json!({ "resource": resource, "reason": "r" }),
        )?;
        expect(&answer, 401, "unauthorized")?;
        check(answer.body.contains("expired"), || format!("{answer}"))?;
        expect(
            &edge.get("health", Some(&bearer(token)))?,
            401,
            "unauthorized",
        )?;
    }
    Ok(())
}

#[test]
fn health_lists_every_resource_by_health_for_writers_and_users() -> Result<()> {
    let (stack, edge, db) = setup()?;
    for auth in [edge.writer_auth(), bearer(stack.authenticated_jwt())] {
        let answer = edge.get("health", Some(&auth))?;
        expect(&answer, 200, "")?;
        let body = answer.json();
        let rows = body["resources"].as_array().cloned().unwrap_or_default();
        let count = |h: &str| rows.iter().filter(|r| r["health"] == h).count();
        let summary = &body["summary"];
        check(
            summary["red"] == count("red")
                && summary["yellow"] == count("yellow")
                && summary["green"] == count("green"),
            || format!("summary {summary} does not count the rows"),
        )?;
        let ranks: Vec<u8> = rows
            .iter()
            .map(|r| match r["health"].as_str() {
                Some("red") => 0,
                Some("yellow") => 1,
                _ => 2,
            })
            .collect();
        check(ranks.windows(2).all(|w| w[0] <= w[1]), || {
            "rows are not red, yellow, green".into()
        })?;
        let in_db: i64 = db
            .query_one("SELECT count(*) FROM public.vantage_sync_state", &[])?
            .try_get(0)?;
        check(
            i64::try_from(rows.len()).is_ok_and(|n| n <= in_db) && !rows.is_empty(),
            || format!("{} rows, {in_db} in the table", rows.len()),
        )?;
        let first = rows.first().cloned().unwrap_or_default();
        for column in [
            "resource",
            "health",
            "alerts",
            "last_sync_status",
            "last_sync_time",
            "started_at",
            "running_seconds",
            "duration_ms",
            "records_synced",
            "error_count",
            "consecutive_failures",
            "current_run_id",
            "last_heartbeat_at",
            "records_so_far",
        ] {
            check(first.get(column).is_some(), || {
                format!("no {column} in {first}")
            })?;
        }
    }
    // The path as Supabase hands it to a function works too.
    let answer = edge.send(
        "GET",
        "/vantage-sync/health",
        &[("authorization", &edge.writer_auth())],
        None,
    )?;
    expect(&answer, 200, "")
}

/// The heartbeat and the records so far of `resource` as the database has them: on the state
/// row, then on the run's history row (timestamps as Unix microseconds).
fn heartbeat_of(db: &Db, resource: &str, run_id: &str) -> Result<(Value, Value)> {
    let row = db.query_one(
        "SELECT json_build_array((extract(epoch FROM s.last_heartbeat_at) * 1000000)::bigint,
                                 s.records_so_far)::text,
                json_build_array((extract(epoch FROM r.last_heartbeat_at) * 1000000)::bigint,
                                 r.records_so_far)::text
           FROM public.vantage_sync_state s
           JOIN public.vantage_sync_runs r ON r.run_id = $2::text::uuid
          WHERE s.resource = $1",
        &[&resource, &run_id],
    )?;
    let (state, run): (String, String) = (row.try_get(0)?, row.try_get(1)?);
    Ok((serde_json::from_str(&state)?, serde_json::from_str(&run)?))
}

/// `timestamptz` text as the database reads it, in Unix microseconds.
fn micros(db: &Db, at: &Value) -> Result<i64> {
    Ok(db
        .query_one(
            "SELECT (extract(epoch FROM $1::text::timestamptz) * 1000000)::bigint",
            &[&at.as_str().unwrap_or("-infinity")],
        )?
        .try_get(0)?)
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario against the real stack, step by step: split, its order would be harder to follow"
)]
fn progress_stores_the_heartbeat_on_the_run_and_answers_it() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_progress");
    let run_id = start(&edge, &resource)?;
    let answer = edge.post_as_writer(
        "progress",
        &json!({ "resource": resource, "run_id": run_id, "records_synced": 45_200 }),
    )?;
    expect(&answer, 200, "")?;
    let body = answer.json();
    check(
        body["resource"] == resource.as_str()
            && body["run_id"] == run_id.as_str()
            && body["records_synced"] == 45_200
            && body.as_object().map(serde_json::Map::len) == Some(4),
        || format!("{answer}"),
    )?;
    let at = micros(&db, &body["last_heartbeat_at"])?;
    let stored = heartbeat_of(&db, &resource, &run_id)?;
    check(stored == (json!([at, 45_200]), json!([at, 45_200])), || {
        format!("stored {stored:?}, answered {answer}")
    })?;

    // Without records: the time moves, the records so far stay.
    let again = edge.post_as_writer(
        "progress",
        &json!({ "resource": resource, "run_id": run_id }),
    )?;
    expect(&again, 200, "")?;
    let later = micros(&db, &again.json()["last_heartbeat_at"])?;
    let stored = heartbeat_of(&db, &resource, &run_id)?;
    check(
        later > at
            && again.json()["records_synced"].is_null()
            && stored == (json!([later, 45_200]), json!([later, 45_200])),
        || format!("stored {stored:?}, answered {again}"),
    )?;

    // The health view shows both.
    let health = edge.get(
        &format!("health?resource={resource}"),
        Some(&edge.writer_auth()),
    )?;
    expect(&health, 200, "")?;
    let row = health.json()["resources"][0].clone();
    check(
        row["records_so_far"] == 45_200 && micros(&db, &row["last_heartbeat_at"])? == later,
        || format!("{health}"),
    )?;

    // A run that is not the current one: 409 with the current run, and nothing changes.
    let other = "00000000-0000-4000-8000-000000000001";
    let refused = edge.post_as_writer(
        "progress",
        &json!({ "resource": resource, "run_id": other, "records_synced": 1 }),
    )?;
    expect(&refused, 409, "conflict")?;
    let error = refused.json()["error"].clone();
    check(
        error["message"]
            == format!(
                "cannot report progress of run {other} of \"{resource}\": it is not the current run (that is {run_id} with status running)"
            )
            && error["current_run"]["run_id"] == run_id.as_str()
            && error["current_run"]["status"] == "running",
        || format!("{refused}"),
    )?;
    check(
        heartbeat_of(&db, &resource, &run_id)? == (json!([later, 45_200]), json!([later, 45_200])),
        || "a refused heartbeat wrote".into(),
    )?;

    // After the run finished: 409 "already finished" (a wrapper then stops its heartbeats).
    let done = edge.post_as_writer(
        "complete",
        &json!({ "resource": resource, "run_id": run_id, "records_synced": 45_300,
                 "records_created": 300, "records_updated": 45_000 }),
    )?;
    expect(&done, 200, "")?;
    let late = edge.post_as_writer(
        "progress",
        &json!({ "resource": resource, "run_id": run_id, "records_synced": 45_300 }),
    )?;
    expect(&late, 409, "conflict")?;
    check(
        late.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("it already finished with status success")),
        || format!("{late}"),
    )?;

    // A resource that never started: 404, like complete and fail.
    let unknown = flow_resource("e_progress_unknown");
    let answer = edge.post_as_writer(
        "progress",
        &json!({ "resource": unknown, "run_id": run_id }),
    )?;
    expect(&answer, 404, "unknown_resource")?;
    check(db.state(&unknown)?.is_none(), || {
        "an unknown resource got a row".into()
    })
}

/// A run that keeps sending heartbeats is not stuck however long it runs; once they stop for
/// longer than `stuck_after`, it is (issue 25). The start is moved back in SQL, as superuser.
#[test]
fn a_heartbeating_run_is_judged_by_its_last_heartbeat() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_heartbeat_stuck");
    let run_id = start(&edge, &resource)?;
    db.query(
        "UPDATE public.vantage_sync_runs SET started_at = started_at - interval '2 hours'
          WHERE run_id = $1::text::uuid",
        &[&run_id],
    )?;
    db.query(
        "UPDATE public.vantage_sync_state SET started_at = started_at - interval '2 hours'
          WHERE resource = $1",
        &[&resource],
    )?;
    let health_of = |edge: &Edge| -> Result<Value> {
        let answer = edge.get(
            &format!("health?resource={resource}"),
            Some(&edge.writer_auth()),
        )?;
        expect(&answer, 200, "")?;
        Ok(answer.json()["resources"][0].clone())
    };
    let before = health_of(&edge)?;
    check(
        before["health"] == "red" && before["alerts"] == json!(["stuck"]),
        || format!("2 hours without a heartbeat is stuck: {before}"),
    )?;
    let beat = edge.post_as_writer(
        "progress",
        &json!({ "resource": resource, "run_id": run_id, "records_synced": 10 }),
    )?;
    expect(&beat, 200, "")?;
    let alive = health_of(&edge)?;
    check(
        alive["health"] == "green" && alive["alerts"] == json!([]),
        || format!("heard from just now: {alive}"),
    )?;
    let second_start = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&second_start, 409, "conflict")?;
    db.query(
        "UPDATE public.vantage_sync_state SET last_heartbeat_at = now() - interval '31 minutes'
          WHERE resource = $1",
        &[&resource],
    )?;
    let silent = health_of(&edge)?;
    check(
        silent["health"] == "red" && silent["alerts"] == json!(["stuck"]),
        || format!("last heard from 31 minutes ago: {silent}"),
    )?;
    // A start now supersedes it, as it would a stuck run without heartbeats.
    let superseding = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&superseding, 200, "")?;
    let code: String = db
        .query_one(
            "SELECT errors -> 0 ->> 'code' FROM public.vantage_sync_runs WHERE run_id = $1::text::uuid",
            &[&run_id],
        )?
        .try_get(0)?;
    check(code == "STUCK_SUPERSEDED", || {
        format!("the silent run's error: {code}")
    })
}

#[test]
fn complete_without_counts_records_that_none_were_reported() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_no_counts");
    let run_id = start(&edge, &resource)?;
    // One or two of three: a 400 that names them, and the run is still running.
    let partial = edge.post_as_writer(
        "complete",
        &json!({ "resource": resource, "run_id": run_id, "records_synced": 5 }),
    )?;
    expect(&partial, 400, "invalid_request")?;
    check(
        partial.json()["error"]["message"]
            == "give all three counts (records_synced, records_created, records_updated) or none; got only records_synced",
        || format!("{partial}"),
    )?;
    check(
        db.state(&resource)?
            .is_some_and(|s| s.last_sync_status == "running"),
        || "a refused complete changed the run".into(),
    )?;
    let answer = edge.post_as_writer(
        "complete",
        &json!({ "resource": resource, "run_id": run_id }),
    )?;
    expect(&answer, 200, "")?;
    check(
        answer.json()
            == json!({ "resource": resource, "run_id": run_id, "status": "success",
                       "records_synced": null, "records_created": null, "records_updated": null,
                       "counts_reported": false }),
        || format!("{answer}"),
    )?;
    let row = db.query_one(
        "SELECT s.last_sync_status, s.records_synced, s.records_created, s.records_updated,
                s.counts_reported, s.last_sync_time = s.completed_at,
                r.records_synced IS NULL AND r.records_created IS NULL AND r.records_updated IS NULL
           FROM public.vantage_sync_state s
           JOIN public.vantage_sync_runs r ON r.run_id = s.current_run_id
          WHERE s.resource = $1",
        &[&resource],
    )?;
    let got: (String, i32, i32, i32, bool, bool, bool) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
    );
    check(
        got == ("success".to_owned(), 0, 0, 0, false, true, true),
        || format!("state and history after a complete without counts: {got:?}"),
    )
}

/// Sends each `(route, body, status, named)` as the writer: each answer is `status` with
/// `invalid_request`, and its message names `named` (the field or value at fault).
fn expect_invalid_requests(edge: &Edge, cases: &[(&str, Value, u16, &str)]) -> Result<()> {
    for (route, body, status, names) in cases {
        let answer = edge.post_as_writer(route, body)?;
        expect(&answer, *status, "invalid_request")?;
        check(
            answer.json()["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(names),
            || format!("{route} {body}: {answer} does not name {names}"),
        )?;
    }
    Ok(())
}

#[test]
fn bad_progress_bodies_are_400_and_change_nothing() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_invalid_progress");
    let cases = [
        (
            "progress",
            json!({ "resource": resource }),
            400,
            "\"run_id\" is required",
        ),
        (
            "progress",
            json!({ "resource": resource, "run_id": "00000000-0000-4000-8000-000000000001", "records_synced": -1 }),
            400,
            "\"records_synced\"",
        ),
        (
            "progress",
            json!({ "resource": resource, "run_id": "00000000-0000-4000-8000-000000000001", "records_created": 1 }),
            400,
            "unknown field \"records_created\"",
        ),
    ];
    expect_invalid_requests(&edge, &cases)?;
    check(db.state(&resource)?.is_none(), || "a bad body wrote".into())
}

#[test]
fn bad_bodies_are_400_or_422_and_change_nothing() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_invalid");
    let cases = [
        (
            "start",
            json!({ "resource": "Not-A-Name" }),
            400,
            "\"resource\"",
        ),
        (
            "start",
            json!({ "resource": resource, "extra": true }),
            400,
            "unknown field \"extra\"",
        ),
        ("start", json!([resource]), 400, "JSON object"),
        (
            "complete",
            json!({ "resource": resource, "records_synced": -1, "records_created": 0, "records_updated": 0 }),
            400,
            "\"records_synced\"",
        ),
        (
            "complete",
            json!({ "resource": resource, "records_synced": 2_147_483_648_u64, "records_created": 0, "records_updated": 0 }),
            400,
            "2147483647",
        ),
        (
            "complete",
            json!({ "resource": resource, "records_synced": 1, "records_created": 1, "records_updated": 1 }),
            422,
            "must not exceed records_synced",
        ),
        (
            "complete",
            json!({ "resource": resource, "run_id": "not-a-uuid", "records_synced": 1, "records_created": 0, "records_updated": 0 }),
            400,
            "\"run_id\"",
        ),
        (
            "complete",
            json!({ "resource": resource, "records_created": 0, "records_updated": 0 }),
            400,
            "or none; got only records_created and records_updated",
        ),
        (
            "fail",
            json!({ "resource": resource, "errors": [] }),
            400,
            "\"errors\"",
        ),
        (
            "fail",
            json!({ "resource": resource, "errors": [{ "code": "X" }] }),
            400,
            "errors[0].message",
        ),
        (
            "fail",
            json!({ "resource": resource, "errors": [{ "code": "X".repeat(65), "message": "m" }] }),
            400,
            "errors[0].code",
        ),
    ];
    expect_invalid_requests(&edge, &cases)?;
    let answer = edge.post(
        "abort",
        Some(&bearer(&edge.sign_es256(&user_claims(
            3600,
            true,
            "a@example.com",
        ))?)),
        &json!({ "resource": resource, "reason": " " }),
    )?;
    expect(&answer, 400, "invalid_request")?;
    check(db.state(&resource)?.is_none(), || "a bad body wrote".into())
}

#[test]
fn bodies_over_64_kib_are_413() -> Result<()> {
    let (_, edge, db) = setup()?;
    let resource = flow_resource("e_big");
    let padding = "x".repeat(65 * 1024);
    let body = json!({ "resource": resource, "errors": [{ "code": "X", "message": padding }] });
    let path = format!("{FUNCTION_PATH}/fail");
    let auth = edge.writer_auth();
    let headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    let body = body.to_string().into_bytes();
    // With Content-Length: refused from the head.
    let answer = edge.send_oversized(&path, &headers, &body, false)?;
    expect(&answer, 413, "payload_too_large")?;
    // Chunked, no Content-Length: refused while reading.
    let answer = edge.send_oversized(&path, &headers, &body, true)?;
    expect(&answer, 413, "payload_too_large")?;
    check(db.state(&resource)?.is_none(), || {
        "a large body wrote".into()
    })
}

#[test]
fn only_json_bodies_are_accepted() -> Result<()> {
    let (_, edge, _) = setup()?;
    let resource = flow_resource("e_media");
    let auth = edge.writer_auth();
    let body = json!({ "resource": resource }).to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut headers = vec![("authorization", auth.as_str())];
        if let Some(ct) = content_type {
            headers.push(("content-type", ct));
        }
        let answer = edge.send(
            "POST",
            &format!("{FUNCTION_PATH}/start"),
            &headers,
            Some(body.clone().into()),
        )?;
        expect(&answer, 415, "unsupported_media_type")?;
    }
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json; charset=utf-8"),
    ];
    let answer = edge.send(
        "POST",
        &format!("{FUNCTION_PATH}/start"),
        &headers,
        Some(body.into()),
    )?;
    expect(&answer, 200, "")
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_405_with_allow() -> Result<()> {
    let (_, edge, _) = setup()?;
    let auth = edge.writer_auth();
    let headers = [("authorization", auth.as_str())];
    for path in [
        "/",
        "/functions/v1/vantage-sync",
        "/functions/v1/vantage-sync/nope",
        "/functions/v1/other/start",
        "/rest/v1/vantage_sync_state",
    ] {
        expect(&edge.send("GET", path, &headers, None)?, 404, "not_found")?;
    }
    for (method, route, allow) in [
        ("GET", "start", "POST"),
        ("PUT", "complete", "POST"),
        ("DELETE", "fail", "POST"),
        ("GET", "abort", "POST, OPTIONS"),
        ("POST", "health", "GET, OPTIONS"),
        ("OPTIONS", "start", "POST"),
    ] {
        let answer = edge.send(method, &format!("{FUNCTION_PATH}/{route}"), &headers, None)?;
        expect(&answer, 405, "method_not_allowed")?;
        check(answer.header("allow") == Some(allow), || {
            format!("{method} {route}: {answer:?}")
        })?;
    }
    Ok(())
}

#[test]
fn cors_answers_on_abort_and_health_only() -> Result<()> {
    let (stack, edge, _) = setup()?;
    let preflight = |route: &str, origin: &str| {
        edge.send(
            "OPTIONS",
            &format!("{FUNCTION_PATH}/{route}"),
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
            ],
            None,
        )
    };
    for route in ["abort", "health"] {
        let answer = preflight(route, ALLOWED_ORIGIN)?;
        check(
            answer.status == 204
                && answer.header("access-control-allow-origin") == Some(ALLOWED_ORIGIN),
            || format!("{route}: {answer:?}"),
        )?;
        let answer = preflight(route, "https://evil.example")?;
        expect(&answer, 403, "forbidden")?;
        check(
            answer.header("access-control-allow-origin").is_none(),
            || format!("{answer:?}"),
        )?;
    }
    for route in ["start", "complete", "fail"] {
        let answer = preflight(route, ALLOWED_ORIGIN)?;
        expect(&answer, 405, "method_not_allowed")?;
        check(
            answer.header("access-control-allow-origin").is_none(),
            || format!("{route}: {answer:?}"),
        )?;
    }
    let user = bearer(stack.authenticated_jwt());
    let answer = edge.send(
        "GET",
        &format!("{FUNCTION_PATH}/health"),
        &[("authorization", &user), ("origin", ALLOWED_ORIGIN)],
        None,
    )?;
    check(
        answer.status == 200
            && answer.header("access-control-allow-origin") == Some(ALLOWED_ORIGIN),
        || format!("{answer:?}"),
    )?;
    let answer = edge.send(
        "POST",
        &format!("{FUNCTION_PATH}/start"),
        &[
            ("authorization", &edge.writer_auth()),
            ("origin", ALLOWED_ORIGIN),
            ("content-type", "application/json"),
        ],
        Some(json!({ "resource": "" }).to_string().into()),
    )?;
    check(
        answer.header("access-control-allow-origin").is_none(),
        || format!("ETL route answered CORS: {answer:?}"),
    )
}

#[test]
fn answers_never_hold_sql_text_or_keys() -> Result<()> {
    let (stack, edge, _) = setup()?;
    let resource = flow_resource("e_leak");
    let run_id = start(&edge, &resource)?;
    let answers = [
        edge.post_as_writer("start", &json!({ "resource": resource }))?,
        edge.post_as_writer("complete", &json!({ "resource": resource, "run_id": "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e",
                                                 "records_synced": 0, "records_created": 0, "records_updated": 0 }))?,
        edge.post_as_writer("fail", &json!({ "resource": flow_resource("e_leak_none"), "errors": [{ "code": "X", "message": "m" }] }))?,
        edge.post("start", Some(&bearer(stack.service_role_key())), &json!({ "resource": resource }))?,
        edge.post_as_writer("start", &json!({ "resource": "x", "p_resource": "y" }))?,
        edge.get("health", Some(&bearer("a.b.c")))?,
        edge.post_as_writer("complete", &json!({ "resource": resource, "run_id": run_id, "records_synced": 1, "records_created": 1, "records_updated": 0 }))?,
        edge.post_as_writer("complete", &json!({ "resource": resource, "run_id": run_id, "records_synced": 1, "records_created": 1, "records_updated": 0 }))?,
    ];
    let secrets = [
        stack.service_role_key(),
        stack.jwt_secret(),
        edge.writer_token(),
        stack.authenticated_jwt(),
    ];
    let sql = [
        "SELECT",
        "relation",
        "constraint",
        "PT409",
        "PT404",
        "plpgsql",
        "vantage_sync_private",
        "HINT",
        "hint",
        "Wait for it",
    ];
    for answer in &answers {
        for needle in secrets.iter().chain(sql.iter()) {
            check(
                !answer.body.contains(needle)
                    && answer.headers.values().all(|v| !v.contains(needle)),
                || format!("{answer} contains {needle:.12}…"),
            )?;
        }
        check(
            answer.header("content-type") == Some("application/json"),
            || format!("{answer:?}"),
        )?;
        check(
            answer
                .header("x-request-id")
                .is_some_and(|id| !id.is_empty()),
            || format!("{answer:?}"),
        )?;
    }
    Ok(())
}

/// The view's order of a row: `<rank>:<resource>`, compared byte by byte (collation "C").
fn sort_key_of(row: &Value) -> String {
    let rank = match row["health"].as_str() {
        Some("red") => 1,
        Some("yellow") => 2,
        _ => 3,
    };
    format!("{rank}:{}", row["resource"].as_str().unwrap_or_default())
}

/// Every row of `GET health?<query>`, page by page with `limit` and the cursors handed back;
/// checks that each page has a `next_cursor` member, no `sort_key`, and at most `limit` rows.
fn walk_pages(edge: &Edge, query: &str, limit: u32) -> Result<Vec<Value>> {
    let mut rows = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10_000 {
        let answer = edge.get(
            &format!("health?limit={limit}{query}{cursor}"),
            Some(&edge.writer_auth()),
        )?;
        expect(&answer, 200, "")?;
        let body = answer.json();
        let page = body["resources"].as_array().cloned().unwrap_or_default();
        check(
            page.len() <= usize::try_from(limit).unwrap_or(usize::MAX)
                && page.iter().all(|row| row.get("sort_key").is_none()),
            || format!("a page of {} rows for limit {limit}: {answer}", page.len()),
        )?;
        rows.extend(page);
        match &body["next_cursor"] {
            Value::String(next) => cursor = format!("&cursor={next}"),
            Value::Null => return Ok(rows),
            _ => return Err(Error::Edge(format!("no next_cursor in {answer}"))),
        }
    }
    Err(Error::Edge("the pages never ended".into()))
}

#[test]
fn health_filters_pages_and_cursors_against_postgrest() -> Result<()> {
    let (_, edge, db) = setup()?;
    // A fixture whose health cannot change while the test runs: failed runs (red), never-run
    // rows (yellow) and fresh successes (green). Other tests' rows may change meanwhile.
    let name = |n: u32| format!("{}_{n}", flow_resource("e_pages"));
    let mut ours: Vec<(String, &str)> = Vec::new();
    for n in 0..9 {
        let resource = name(n);
        let health = match n % 3 {
            0 => {
                edge.sync_once(&resource, "fail")?;
                "red"
            }
            1 => {
                db.query(
                    "INSERT INTO public.vantage_sync_state (resource) VALUES ($1)",
                    &[&resource],
                )?;
                "yellow"
            }
            _ => {
                edge.sync_once(&resource, "complete")?;
                "green"
            }
        };
        ours.push((resource, health));
    }
    // The fixture's keys in the view's order, with their colours.
    let mut expected: Vec<(String, &str)> = ours
        .iter()
        .map(|(resource, health)| {
            let row = json!({ "resource": resource, "health": health });
            (sort_key_of(&row), *health)
        })
        .collect();
    expected.sort_unstable();

    // One resource, by name; filters that match nothing answer an empty list.
    let (red_one, _) = &ours[0];
    for (query, count) in [
        (format!("resource={red_one}"), 1),
        (format!("resource={red_one}&health=red,yellow"), 1),
        (format!("health=green&resource={red_one}"), 0),
    ] {
        let answer = edge.get(&format!("health?{query}"), Some(&edge.writer_auth()))?;
        expect(&answer, 200, "")?;
        let rows = answer.json()["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        check(
            rows.len() == count && rows.iter().all(|r| r["resource"] == red_one.as_str()),
            || format!("health?{query}: {answer}"),
        )?;
        check(answer.json().get("next_cursor").is_none(), || {
            format!("health?{query} is not paged: {answer}")
        })?;
    }

    // Every row through small pages: in the view's order throughout (each page starts after
    // the previous one's last key), and the fixture exactly once, in its order.
    for (query, colours) in [
        ("", ["red", "yellow", "green"].as_slice()),
        ("&health=red,green", ["red", "green"].as_slice()),
    ] {
        let rows = walk_pages(&edge, query, 7)?;
        let keys: Vec<String> = rows.iter().map(sort_key_of).collect();
        check(keys.windows(2).all(|w| w[0] < w[1]), || {
            format!("pages of health?{query} out of order")
        })?;
        check(
            rows.iter()
                .all(|r| colours.contains(&r["health"].as_str().unwrap_or_default())),
            || format!("health?{query} answered another colour"),
        )?;
        let mine: Vec<&String> = keys
            .iter()
            .filter(|key| expected.iter().any(|(ours, _)| ours == *key))
            .collect();
        let wanted: Vec<&String> = expected
            .iter()
            .filter(|(_, health)| colours.contains(health))
            .map(|(key, _)| key)
            .collect();
        check(mine == wanted, || {
            format!("health?{query} in pages of 7: {mine:?}, expected {wanted:?}")
        })?;
    }
    Ok(())
}

#[test]
fn bad_health_parameters_are_400_with_a_sentence() -> Result<()> {
    let (_, edge, db) = setup()?;
    let before = db.checksum_excluding_prefix(vantage_sync_tests::spec::FLOW_PREFIX)?;
    let cases = [
        (
            "health=purple",
            "\"health\" must be a comma-separated list of red, yellow and green",
        ),
        ("health=", "\"health\" must be a comma-separated list"),
        (
            "resource=Accounts",
            "\"resource\" must be a resource's name",
        ),
        (
            "resource=a%27%20OR%201%3D1",
            "\"resource\" must be a resource's name",
        ),
        (
            "limit=0",
            "\"limit\" must be a whole number from 1 to 1000 (got \"0\")",
        ),
        ("limit=5000", "(got \"5000\")"),
        ("limit=abc", "(got \"abc\")"),
        ("limit=", "(got \"\")"),
        (
            "cursor=abc",
            "\"cursor\" is not one this function handed out",
        ),
        (
            "cursor=djE6NDp4",
            "\"cursor\" is not one this function handed out",
        ),
        (
            "order=resource",
            "unknown parameter \"order\"; GET health takes health, resource, limit, cursor",
        ),
        (
            "limit=2&limit=3",
            "\"limit\" is given twice; give each parameter at most once",
        ),
    ];
    for (query, sentence) in cases {
        let answer = edge.get(&format!("health?{query}"), Some(&edge.writer_auth()))?;
        expect(&answer, 400, "invalid_request")?;
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        check(message.contains(sentence), || {
            format!("health?{query}: {message:?} lacks {sentence:?}")
        })?;
        for leak in [
            "PGRST",
            "sort_key",
            "SELECT",
            "syntax",
            "vantage_sync_health",
        ] {
            check(!answer.body.contains(leak), || {
                format!("health?{query} leaks {leak:?}: {answer}")
            })?;
        }
    }
    check(
        db.checksum_excluding_prefix(vantage_sync_tests::spec::FLOW_PREFIX)? == before,
        || "a refused health read changed the state table".into(),
    )
}
