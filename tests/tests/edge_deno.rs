//! The Supabase Edge Functions shape, run for real: the bundle of `cargo xtask bundle supabase`
//! (`index.ts`, the wasm-bindgen glue, the module) started with `deno run` on a loopback port,
//! with the environment the native server gets, against the stack's PostgREST and Postgres.
//! The core suite (`GET metrics` included) goes through it once, each answer checked in SQL too; and the bundle is
//! scanned for secrets.
//!
//! The tests build and install nothing: the bundle is `$VANTAGE_SUPABASE_BUNDLE`, else
//! `target/supabase`; Deno is `$VANTAGE_DENO`, else the one `cargo xtask bundle supabase`
//! installs. `cargo xtask test http` provides both before it runs them; a test that finds
//! either missing fails saying so.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vantage_dev_files::tree::files_under;
use vantage_sync_tests::edge::{Edge, EdgeResponse, FUNCTION_PATH, expect, sha256_hex};
use vantage_sync_tests::receiver::{Receiver as WebhookReceiver, subscribe, unsubscribe};
use vantage_sync_tests::spec::{flow_resource, spec_errors};
use vantage_sync_tests::{Db, Error, Result, Stack, check};

/// The origins the stack's native server allows (so both answer CORS alike).
const CORS_ORIGINS: &str = "http://127.0.0.1:8080,http://localhost:8080";

/// The function's folder in the bundle.
const FUNCTION_DIR: &str = "functions/vantage-sync";

fn fail(message: impl Into<String>) -> Error {
    Error::Edge(message.into())
}

/// Where the bundle and Deno come from: a test builds and installs nothing (that is a few
/// minutes of `cargo install` and npm, and races between test binaries), so the one command
/// that provides both is named when either is missing.
const PROVIDED_BY: &str = "run `cargo xtask test http` (it builds the bundle and installs Deno \
     before the tests), or `cargo xtask bundle supabase`";

/// Nothing if `path` exists, else an error naming `what`, the variable that sets it and the
/// command that provides it.
fn require(what: &str, variable: &str, path: &Path) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(fail(format!(
            "{what} is missing: {} does not exist (set ${variable} to use another); {PROVIDED_BY}",
            path.display()
        )))
    }
}

/// `$name`, unless it is unset or empty.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// The bundle folder: `$VANTAGE_SUPABASE_BUNDLE`, else `supabase/` in the target directory,
/// where `cargo xtask bundle supabase` writes it.
fn bundle() -> Result<PathBuf> {
    let dir = env_path("VANTAGE_SUPABASE_BUNDLE").unwrap_or_else(|| {
        env_path("CARGO_TARGET_DIR")
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
            .join("supabase")
    });
    require(
        "The Supabase bundle",
        "VANTAGE_SUPABASE_BUNDLE",
        &dir.join(FUNCTION_DIR).join("index.ts"),
    )?;
    Ok(dir)
}

/// `$VANTAGE_DENO`, else the npm platform package `cargo xtask bundle supabase` installs in
/// the tools folder (`$VANTAGE_TOOLS_DIR`, else `~/.cache/vantage-sync/tools`).
fn deno() -> Result<PathBuf> {
    let path = env_path("VANTAGE_DENO").unwrap_or_else(|| {
        env_path("VANTAGE_TOOLS_DIR")
            .unwrap_or_else(|| {
                env_path("HOME")
                    .unwrap_or_else(|| PathBuf::from("/tmp"))
                    .join(".cache/vantage-sync/tools")
            })
            .join("deno/node_modules/@deno/linux-x64-glibc/deno")
    });
    require("Deno", "VANTAGE_DENO", &path)?;
    Ok(path)
}

/// The bundled function under Deno, killed (by its own child handle) when dropped.
struct DenoFunction {
    child: Child,
    base_url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl DenoFunction {
    /// Starts `index.ts` of `bundle` on a free loopback port with the stack's configuration,
    /// under Supabase's variable names, and the SHA-256 of `writer_token`.
    #[allow(
        clippy::too_many_lines,
        reason = "one scenario against the real stack, step by step: split, its order would be harder to follow"
    )]
    fn start(bundle: &Path, stack: &Stack, writer_token: &str) -> Result<Self> {
        let function_dir = bundle.join(FUNCTION_DIR);
        let jwks = std::fs::read_to_string(stack.jwks_file()).map_err(|source| Error::Io {
            path: stack.jwks_file().to_path_buf(),
            source,
        })?;
        let mut cmd = Command::new(deno()?);
        cmd.env_clear()
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("DENO_NO_UPDATE_CHECK", "1")
            .env("SUPABASE_URL", stack.postgrest_url())
            .env("SUPABASE_REST_URL", stack.postgrest_url())
            .env("SUPABASE_SERVICE_ROLE_KEY", stack.service_role_key())
            .env("SUPABASE_JWKS", jwks)
            .env("SUPABASE_JWT_SECRET", stack.jwt_secret())
            .env("VANTAGE_WRITER_TOKEN_SHA256", sha256_hex(writer_token))
            .env("VANTAGE_CORS_ORIGINS", CORS_ORIGINS)
            // The webhook test's receiver listens on loopback.
            .env("VANTAGE_WEBHOOKS_ALLOW_PRIVATE", "true")
            .env("VANTAGE_EDGE_PORT", "0")
            .arg("run")
            .arg("--allow-net=127.0.0.1")
            .arg("--allow-env")
            .arg(format!("--allow-read={}", function_dir.display()))
            .arg(function_dir.join("index.ts"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| fail(format!("cannot start deno: {e}")))?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(fail("deno's output pipes are missing"));
        };
        let (addr_tx, addr_rx) = mpsc::channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout)
                .lines()
                .map_while(std::io::Result::ok)
            {
                let listening = serde_json::from_str::<Value>(&line)
                    .ok()
                    .filter(|v| v["msg"] == "listening")
                    .and_then(|v| v["addr"].as_str().map(str::to_owned));
                match listening {
                    Some(addr) => {
                        let _ = addr_tx.send(addr);
                    }
                    None => {
                        if let Ok(mut lines) = lines.lock() {
                            lines.push(line);
                        }
                    }
                }
            }
        });
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let stderr_sink = Arc::clone(&stderr_text);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            if let Ok(mut sink) = stderr_sink.lock() {
                *sink = text;
            }
        });
        let mut function = Self {
            child,
            base_url: String::new(),
            log,
        };
        if let Some(addr) = wait_for_address(&addr_rx, &mut function.child) {
            function.base_url = format!("http://{addr}{FUNCTION_PATH}");
            return Ok(function);
        }
        drop(function);
        std::thread::sleep(Duration::from_millis(200));
        let stderr = stderr_text.lock().map(|s| s.clone()).unwrap_or_default();
        Err(fail(format!(
            "the Deno function did not start listening: {stderr}"
        )))
    }

    /// Its log lines so far (one JSON object per request).
    fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The log line of the request with this id (waits briefly: the line is printed just
    /// before the answer leaves, but read by another thread).
    fn log_line_of(&self, request_id: &str) -> Option<Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .log_lines()
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v["request_id"] == request_id);
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The `listening` address, or `None` when Deno exits or 60 s pass (its first start type-checks
/// nothing but still compiles the TypeScript).
fn wait_for_address(rx: &Receiver<String>, child: &mut Child) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(addr) = rx.recv_timeout(Duration::from_millis(100)) {
            return Some(addr);
        }
        if let Ok(Some(_)) = child.try_wait() {
            return None;
        }
    }
    None
}

impl Drop for DenoFunction {
    fn drop(&mut self) {
        // Only the process this test started, through its own handle (its PID).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The stack, its edge client pointed at the Deno function, the database, and the function.
fn setup() -> Result<(Stack, Edge, Db, DenoFunction)> {
    let stack = Stack::load()?;
    let native = Edge::load(&stack)?;
    let function = DenoFunction::start(&bundle()?, &stack, native.writer_token())?;
    let edge = native.at(&function.base_url)?;
    let db = Db::connect(&stack)?;
    Ok((stack, edge, db, function))
}

/// `(last_sync_status, current_run_id, runs in the history)` of `resource`, if it has a row.
fn sql_state(db: &Db, resource: &str) -> Result<Option<(String, Option<String>, i64)>> {
    let rows = db.query(
        "SELECT last_sync_status, current_run_id::text,
                (SELECT count(*) FROM public.vantage_sync_runs r WHERE r.resource = s.resource)
           FROM public.vantage_sync_state s WHERE resource = $1",
        &[&resource],
    )?;
    rows.first()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .transpose()
}

fn absent(db: &Db, resource: &str, what: &str) -> Result<()> {
    let state = sql_state(db, resource)?;
    check(state.is_none(), || {
        format!("{what}: {resource} was written: {state:?}")
    })
}

#[test]
fn the_core_suite_passes_through_the_deno_bundle() -> Result<()> {
    let (_stack, edge, db, function) = setup()?;
    let mut answers = Vec::new();
    health_and_flows(&edge, &db, &mut answers)?;
    refusals(&edge, &db, &mut answers)?;
    one_log_line_each(&edge, &function, &answers)
}

/// `GET health` a page at a time, and a refused parameter: the query string reaches the core
/// through Deno's `Request`.
fn health_pages(edge: &Edge, answers: &mut Vec<EdgeResponse>) -> Result<()> {
    let writer = edge.writer_auth();
    let first = edge.get("health?limit=1", Some(&writer))?;
    expect(&first, 200, "")?;
    let cursor = first.json()["next_cursor"].as_str().map(str::to_owned);
    check(
        first.json()["resources"].as_array().map(Vec::len) == Some(1) && cursor.is_some(),
        || format!("health?limit=1 through Deno: {first}"),
    )?;
    let second = edge.get(
        &format!("health?limit=1&cursor={}", cursor.unwrap_or_default()),
        Some(&writer),
    )?;
    expect(&second, 200, "")?;
    check(
        second.json()["resources"][0]["resource"] != first.json()["resources"][0]["resource"],
        || format!("the second page repeats the first: {second}"),
    )?;
    let refused = edge.get("health?limit=0", Some(&writer))?;
    expect(&refused, 400, "invalid_request")?;
    answers.extend([first, second, refused]);
    Ok(())
}

/// GET health, start -> complete, start -> fail; each checked in SQL.
#[allow(
    clippy::too_many_lines,
    reason = "one scenario against the real stack, step by step: split, its order would be harder to follow"
)]
fn health_and_flows(edge: &Edge, db: &Db, answers: &mut Vec<EdgeResponse>) -> Result<()> {
    let writer = edge.writer_auth();

    // GET health: every row of the health view.
    let answer = edge.get("health", Some(&writer))?;
    expect(&answer, 200, "")?;
    let listed = answer.json()["resources"].as_array().map_or(0, Vec::len);
    let in_sql: i64 = db
        .query_one("SELECT count(*) FROM public.vantage_sync_health", &[])?
        .try_get(0)?;
    check(i64::try_from(listed).ok() == Some(in_sql), || {
        format!("health lists {listed} resources, the view has {in_sql}: {answer}")
    })?;
    answers.push(answer);

    health_pages(edge, answers)?;

    // GET metrics, as Prometheus asks for it: one health sample per row of the view.
    let answer = edge.send(
        "GET",
        &format!("{FUNCTION_PATH}/metrics"),
        &[
            ("authorization", writer.as_str()),
            ("accept", "application/openmetrics-text;version=1.0.0"),
        ],
        None,
    )?;
    let samples = answer
        .body
        .lines()
        .filter(|l| l.starts_with("vantage_sync_health{"))
        .count();
    check(
        answer.status == 200
            && answer.body.ends_with("# EOF\n")
            && i64::try_from(samples).ok() == Some(in_sql),
        || format!("metrics has {samples} health samples, the view {in_sql} rows: {answer}"),
    )?;
    answers.push(answer);

    // start -> complete.
    let resource = flow_resource("deno_ok");
    let answer = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&answer, 200, "")?;
    let run_id = answer.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let state = sql_state(db, &resource)?;
    check(
        state == Some(("running".into(), Some(run_id.clone()), 1)),
        || format!("after start: {state:?}; {answer}"),
    )?;
    answers.push(answer);
    let answer = edge.post_as_writer(
        "complete",
        &json!({ "resource": resource, "run_id": run_id, "records_synced": 150,
                 "records_created": 100, "records_updated": 50 }),
    )?;
    expect(&answer, 200, "")?;
    let row = db.query_one(
        "SELECT last_sync_status, records_synced, records_created, records_updated,
                last_sync_time IS NOT NULL
           FROM public.vantage_sync_state WHERE resource = $1",
        &[&resource],
    )?;
    let got: (String, i32, i32, i32, bool) = (
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
    );
    check(got == ("success".into(), 150, 100, 50, true), || {
        format!("after complete: {got:?}; {answer}")
    })?;
    answers.push(answer);

    // start -> fail, with the spec's errors.
    let resource = flow_resource("deno_fail");
    let answer = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&answer, 200, "")?;
    answers.push(answer);
    let answer = edge.post_as_writer(
        "fail",
        &json!({ "resource": resource, "errors": spec_errors() }),
    )?;
    expect(&answer, 200, "")?;
    let row = db.query_one(
        "SELECT last_sync_status, errors -> 0 ->> 'code' FROM public.vantage_sync_state
          WHERE resource = $1",
        &[&resource],
    )?;
    let got: (String, Option<String>) = (row.try_get(0)?, row.try_get(1)?);
    check(
        got == (
            "failed".into(),
            spec_errors()[0]["code"].as_str().map(str::to_owned),
        ),
        || format!("after fail: {got:?}; {answer}"),
    )?;
    answers.push(answer);
    Ok(())
}

/// 401, 409, 404, 405, 413 (declared and streamed), 415; each checked in SQL.
fn refusals(edge: &Edge, db: &Db, answers: &mut Vec<EdgeResponse>) -> Result<()> {
    let writer = edge.writer_auth();

    // 401 without a token (and with a wrong one): nothing written.
    let resource = flow_resource("deno_401");
    for auth in [None, Some("Bearer vst_not_a_writer_token")] {
        let answer = edge.post("start", auth, &json!({ "resource": resource }))?;
        expect(&answer, 401, "unauthorized")?;
        answers.push(answer);
    }
    absent(db, &resource, "401")?;

    // 409 on a second start: the first run stays the only one.
    let resource = flow_resource("deno_409");
    let first = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&first, 200, "")?;
    let run_id = first.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let answer = edge.post_as_writer("start", &json!({ "resource": resource }))?;
    expect(&answer, 409, "conflict")?;
    let state = sql_state(db, &resource)?;
    check(state == Some(("running".into(), Some(run_id), 1)), || {
        format!("after a second start: {state:?}; {answer}")
    })?;
    answers.extend([first, answer]);

    // 404 unknown path, 405 wrong method (with Allow).
    let answer = edge.send("POST", &format!("{FUNCTION_PATH}/nope"), &[], None)?;
    expect(&answer, 404, "not_found")?;
    answers.push(answer);
    let answer = edge.get("start", Some(&writer))?;
    expect(&answer, 405, "method_not_allowed")?;
    check(answer.header("allow") == Some("POST"), || {
        format!("Allow: {:?}", answer.header("allow"))
    })?;
    answers.push(answer);

    // 413: declared too large, and streamed (chunked, no Content-Length) past 64 KiB while
    // Deno reads it.
    let resource = flow_resource("deno_413");
    let big = format!(
        r#"{{"resource":"{resource}","pad":"{}"}}"#,
        " ".repeat(70 * 1024)
    );
    let path = format!("{FUNCTION_PATH}/start");
    let headers = [
        ("content-type", "application/json"),
        ("authorization", writer.as_str()),
    ];
    let answer = edge.send("POST", &path, &headers, Some(big.clone().into()))?;
    expect(&answer, 413, "payload_too_large")?;
    answers.push(answer);
    let streamed = reqwest::blocking::Body::new(std::io::Cursor::new(big.into_bytes()));
    let answer = edge.send("POST", &path, &headers, Some(streamed))?;
    expect(&answer, 413, "payload_too_large")?;
    answers.push(answer);
    absent(db, &resource, "413")?;

    // 415: not JSON.
    let resource = flow_resource("deno_415");
    let answer = edge.send(
        "POST",
        &path,
        &[("content-type", "text/plain"), ("authorization", &writer)],
        Some(json!({ "resource": resource }).to_string().into()),
    )?;
    expect(&answer, 415, "unsupported_media_type")?;
    answers.push(answer);
    absent(db, &resource, "415")
}

/// One JSON log line per request, matching the answer, with no secret in any of them.
fn one_log_line_each(edge: &Edge, function: &DenoFunction, answers: &[EdgeResponse]) -> Result<()> {
    for answer in answers {
        let id = answer.header("x-request-id").unwrap_or_default();
        let line = function.log_line_of(id);
        check(
            line.as_ref()
                .is_some_and(|l| l["status"] == answer.status && l["latency_ms"].is_number()),
            || format!("log line of {id} ({answer}): {line:?}"),
        )?;
    }
    let log = function.log_lines().join("\n");
    check(!log.contains(edge.writer_token()), || {
        "the log holds the writer token".to_owned()
    })?;
    Ok(())
}

#[test]
fn a_failure_through_the_bundle_reaches_a_webhook_after_the_answer() -> Result<()> {
    let (_stack, edge, db, function) = setup()?;
    let receiver = WebhookReceiver::start()?;
    let resource = flow_resource("deno_webhook");
    let webhook_id = subscribe(
        &db,
        &receiver.url(),
        &["failed"],
        &resource,
        "whsec_deno_0123456789abcdefghij",
    )?;
    let outcome = (|| {
        let started = edge.post_as_writer("start", &json!({ "resource": resource }))?;
        expect(&started, 200, "")?;
        let failed = edge.post_as_writer(
            "fail",
            &json!({ "resource": resource, "errors": [{ "code": "E", "message": "deno" }] }),
        )?;
        expect(&failed, 200, "")?;
        let got = receiver.wait_for(1, Duration::from_secs(15));
        check(
            got.len() == 1
                && got[0].json()["event"] == "failed"
                && got[0]
                    .header("vantage-signature")
                    .is_some_and(|s| s.contains(",v1=")),
            || {
                format!(
                    "the receiver got {got:?}; the function logged {:?}",
                    function.log_lines()
                )
            },
        )?;
        // The delivery ran after the answer, under the request's id, with its own log line.
        let request_id = failed.header("x-request-id").unwrap_or_default().to_owned();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let delivered = function.log_lines().iter().any(|line| {
                line.contains(&request_id) && line.contains("\"route\":\"deliveries\"")
            });
            if delivered {
                return Ok(());
            }
            check(Instant::now() < deadline, || {
                format!("no deliveries log line: {:?}", function.log_lines())
            })?;
            std::thread::sleep(Duration::from_millis(50));
        }
    })();
    unsubscribe(&db, &webhook_id)?;
    outcome
}

#[test]
fn a_bad_configuration_answers_500_and_names_the_variable() -> Result<()> {
    let stack = Stack::load()?;
    // A writer-token list that is not hex: the function is still built, reports the variable's
    // name, and answers every request with 500 `internal` (logged with the name) instead of
    // crashing. Driven with `deno eval`, the way index.ts drives it.
    let deno = deno()?;
    let function_dir = bundle()?.join(FUNCTION_DIR);
    let output = Command::new(deno)
        .env_clear()
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("DENO_NO_UPDATE_CHECK", "1")
        .env("SUPABASE_URL", stack.postgrest_url())
        .env("SUPABASE_SERVICE_ROLE_KEY", stack.service_role_key())
        .env("VANTAGE_WRITER_TOKEN_SHA256", "not-a-hash")
        .args(["eval", "--quiet"])
        .arg(format!(
            "const {{ initSync, EdgeFunction }} = await import({:?}); \
             initSync({{ module: Deno.readFileSync({:?}) }}); \
             const edge = new EdgeFunction(Deno.env.toObject()); \
             const answer = await edge.handle(new Request('http://127.0.0.1/functions/v1/vantage-sync/health')); \
             console.log(JSON.stringify({{ configError: edge.configError, status: answer.status, body: await answer.json() }}));",
            format!("file://{}", function_dir.join("vantage_edge_deno.js").display()),
            function_dir.join("vantage_edge_deno_bg.wasm").display().to_string(),
        ))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(format!("cannot run deno eval: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v.get("configError").is_some())
        .ok_or_else(|| {
            fail(format!(
                "no summary line: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            ))
        })?;
    check(
        summary["configError"].as_str().is_some_and(|e| {
            e.starts_with("VANTAGE_WRITER_TOKEN_SHA256") && !e.contains("not-a-hash")
        }) && summary["status"] == 500
            && summary["body"]["error"]["code"] == "internal",
        || format!("{summary}"),
    )?;
    check(
        stdout.contains("\"detail\":\"configuration: VANTAGE_WRITER_TOKEN_SHA256"),
        || format!("the log line does not name the variable: {stdout}"),
    )
}

#[test]
fn the_bundle_holds_no_secret() -> Result<()> {
    let bundle = bundle()?;
    let stack = Stack::load()?;
    let writer = Edge::load(&stack)?.writer_token().to_owned();
    let secrets = [
        ("the service-role key", stack.service_role_key().to_owned()),
        ("the JWT secret", stack.jwt_secret().to_owned()),
        ("the writer token", writer),
    ];
    let files = files_under(&bundle)?;
    check(
        files
            .iter()
            .any(|f| f.ends_with("vantage_edge_deno_bg.wasm")),
        || format!("no wasm module in {}", bundle.display()),
    )?;
    for file in &files {
        let bytes = std::fs::read(file).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        let text = String::from_utf8_lossy(&bytes);
        for (what, secret) in &secrets {
            check(!text.contains(secret.as_str()), || {
                format!("{} holds {what}", file.display())
            })?;
        }
        check(!holds_secret_key(&bytes), || {
            format!("{} holds an sb_secret_ key", file.display())
        })?;
        check(!holds_jwt(&bytes), || {
            format!("{} holds a JWT", file.display())
        })?;
    }
    Ok(())
}

/// Whether `bytes` hold `sb_secret_` followed by at least 16 key characters (the docs' own
/// `sb_secret_...` placeholders do not count).
fn holds_secret_key(bytes: &[u8]) -> bool {
    let needle = b"sb_secret_";
    bytes.windows(needle.len()).enumerate().any(|(i, w)| {
        w == needle
            && bytes[i + needle.len()..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b'-')
                .count()
                >= 16
    })
}

/// Whether `bytes` hold something shaped like a JWT: `eyJ` + base64url, `.`, `eyJ` + base64url.
fn holds_jwt(bytes: &[u8]) -> bool {
    let b64 = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-';
    bytes.windows(3).enumerate().any(|(i, w)| {
        if w != b"eyJ" {
            return false;
        }
        let header = bytes[i..].iter().take_while(|b| b64(b)).count();
        let rest = &bytes[i + header..];
        header >= 10 && rest.first() == Some(&b'.') && rest[1..].starts_with(b"eyJ")
    })
}

#[test]
fn the_secret_patterns_match_keys_and_tokens_only() {
    assert!(holds_secret_key(b"x sb_secret_abcdefghijklmnop1234 y"));
    assert!(!holds_secret_key(b"a secret key (sb_secret_...)"));
    assert!(holds_jwt(
        b"\"eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.sig\""
    ));
    assert!(!holds_jwt(b"eyJ is how JSON starts in base64"));
}
