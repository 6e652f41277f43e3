//! Extra instances of the native edge server, started here with their own configuration:
//! PostgREST unreachable (a real refused connection on a closed loopback port), PostgREST
//! refusing the function's key, a broken configuration, and a graceful stop.

use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};
use vantage_sync_tests::edge::{
    Edge, EdgeProcess, closed_port, expect, server_env, stack_server_env,
};
use vantage_sync_tests::spec::flow_resource;
use vantage_sync_tests::{Db, Error, Result, Stack, check};

/// The stack edge's configuration, with `rest_url` and `service_key` swapped in.
/// Every log line has the fields an operator needs and none of the secrets.
fn check_log(
    process: &EdgeProcess,
    stack: &Stack,
    edge: &Edge,
    requests: usize,
) -> Result<Vec<Value>> {
    let text = process.log_text();
    for secret in [
        stack.service_role_key(),
        stack.anon_key(),
        stack.jwt_secret(),
        edge.writer_token(),
        stack.authenticated_jwt(),
    ] {
        check(!text.contains(secret), || {
            format!("a secret in the log: {text}")
        })?;
    }
    let lines: Vec<Value> = process
        .log_lines()?
        .into_iter()
        .filter(|l| l.get("request_id").is_some())
        .collect();
    check(lines.len() == requests, || {
        format!("{requests} requests, log: {text}")
    })?;
    for line in &lines {
        for field in [
            "request_id",
            "method",
            "route",
            "status",
            "latency_ms",
            "upstream_calls",
        ] {
            check(line.get(field).is_some(), || {
                format!("no {field} in {line}")
            })?;
        }
    }
    Ok(lines)
}

#[test]
fn an_unreachable_postgrest_is_503_with_retry_after() -> Result<()> {
    let stack = Stack::load()?;
    let edge = Edge::load(&stack)?;
    let nowhere = format!("http://127.0.0.1:{}", closed_port()?);
    let process = EdgeProcess::start(
        edge.binary(),
        &server_env(&stack, &edge, &nowhere, stack.service_role_key())?,
    )?;
    let down = edge.at(&process.base_url())?;
    let resource = flow_resource("e_down");
    let answers = [
        down.post_as_writer("start", &json!({ "resource": resource }))?,
        down.post_as_writer("complete", &json!({ "resource": resource, "records_synced": 0, "records_created": 0, "records_updated": 0 }))?,
        down.post_as_writer("fail", &json!({ "resource": resource, "run_id": "3f2b8c1e-4d5a-4b6c-9d7e-8f9a0b1c2d3e", "errors": [{ "code": "X", "message": "m" }] }))?,
        down.post("abort", Some(&format!("Bearer {}", stack.authenticated_jwt())), &json!({ "resource": resource, "reason": "r" }))?,
        down.get("health", Some(&down.writer_auth()))?,
    ];
    for answer in &answers {
        expect(answer, 503, "upstream_unavailable")?;
        check(answer.header("retry-after") == Some("5"), || {
            format!("{answer:?}")
        })?;
        check(
            !answer.body.contains("127.0.0.1") && !answer.body.contains("refused"),
            || format!("{answer}"),
        )?;
    }
    // Credentials are still checked first: no token, no upstream call, 401.
    expect(
        &down.post("start", None, &json!({ "resource": resource }))?,
        401,
        "unauthorized",
    )?;
    let lines = check_log(&process, &stack, &edge, answers.len() + 1)?;
    let first = &lines[0];
    check(
        first["status"] == 503
            && first["route"] == "start"
            && first["error"] == "upstream_unavailable"
            && first["detail"]
                .as_str()
                .is_some_and(|d| d.contains("unreachable")),
        || format!("{first}"),
    )?;
    check(lines[answers.len()]["upstream_calls"] == 0, || {
        format!("{}", lines[answers.len()])
    })
}

#[test]
fn a_key_postgrest_refuses_is_500_internal_with_a_log_line() -> Result<()> {
    let stack = Stack::load()?;
    let edge = Edge::load(&stack)?;
    let db = Db::connect(&stack)?;
    // The anon key where the service-role key belongs: PostgREST answers 401/42501.
    let process = EdgeProcess::start(
        edge.binary(),
        &server_env(&stack, &edge, stack.postgrest_url(), stack.anon_key())?,
    )?;
    let misconfigured = edge.at(&process.base_url())?;
    let resource = flow_resource("e_badkey");
    let answer = misconfigured.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&answer, 500, "internal")?;
    check(
        !answer.body.contains("42501") && !answer.body.contains("permission"),
        || format!("{answer}"),
    )?;
    let lines = check_log(&process, &stack, &edge, 1)?;
    check(
        lines[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("refused the service key")),
        || format!("{}", lines[0]),
    )?;
    check(db.state(&resource)?.is_none(), || {
        "a write with the anon key".into()
    })
}

#[test]
fn a_broken_configuration_stops_the_server_at_start_naming_the_variable() -> Result<()> {
    let stack = Stack::load()?;
    let edge = Edge::load(&stack)?;
    let output = Command::new(edge.binary())
        .env_clear()
        .env("SUPABASE_URL", stack.postgrest_url())
        .env("SUPABASE_SERVICE_ROLE_KEY", stack.service_role_key())
        .env("VANTAGE_WRITER_TOKEN_SHA256", "not-a-hash")
        .output()
        .map_err(|source| Error::Io {
            path: edge.binary().to_path_buf(),
            source,
        })?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    check(output.status.code() == Some(2), || {
        format!("{:?}: {stderr}", output.status)
    })?;
    check(stderr.contains("VANTAGE_WRITER_TOKEN_SHA256"), || {
        stderr.to_string()
    })?;
    check(!stderr.contains(stack.service_role_key()), || {
        "the key in stderr".into()
    })
}

#[test]
fn sigterm_stops_the_server_cleanly() -> Result<()> {
    let stack = Stack::load()?;
    let edge = Edge::load(&stack)?;
    let mut process = EdgeProcess::start(edge.binary(), &stack_server_env(&stack, &edge)?)?;
    let own = edge.at(&process.base_url())?;
    expect(&own.get("health", Some(&own.writer_auth()))?, 200, "")?;
    process.terminate()?;
    let code = process.wait_exit(Duration::from_secs(10));
    check(code == Some(0), || format!("exit code {code:?}"))
}
