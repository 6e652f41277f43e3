//! `GET metrics` against the real stack: a native edge server of the test's own with a metrics
//! token configured (its request counters start at zero), in front of the stack's PostgREST.
//! Who may scrape; the body checked by Debian's `promtool check metrics` and compared with the
//! database; and a real Prometheus server scraping it (OpenMetrics) whose queries answer what
//! the database holds.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};
use vantage_sync_tests::edge::{
    Edge, EdgeProcess, EdgeResponse, FUNCTION_PATH, sha256_hex, stack_server_env,
};
use vantage_sync_tests::prometheus::{JOB, Prometheus, promtool_check};
use vantage_sync_tests::spec::{flow_resource, spec_errors};
use vantage_sync_tests::{Db, Result, Stack, check};

const METRICS_TOKEN: &str = "vmt_it_metrics_token_5f1c0e7a9b2d4c6e8f0a1b2c3d4e5f60";
const OPENMETRICS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0";

/// The stack, a client of the test's own edge server, the server and the database.
fn setup() -> Result<(Stack, Edge, EdgeProcess, Db)> {
    let stack = Stack::load()?;
    let native = Edge::load(&stack)?;
    let mut env = stack_server_env(&stack, &native)?;
    env.push(("VANTAGE_METRICS_TOKEN_SHA256", sha256_hex(METRICS_TOKEN)));
    let server = EdgeProcess::start(native.binary(), &env)?;
    let edge = native.at(&server.base_url())?;
    let db = Db::connect(&stack)?;
    Ok((stack, edge, server, db))
}

fn scrape(edge: &Edge, auth: Option<&str>, accept: Option<&str>) -> Result<EdgeResponse> {
    let mut headers = Vec::new();
    if let Some(auth) = auth {
        headers.push(("authorization", auth));
    }
    if let Some(accept) = accept {
        headers.push(("accept", accept));
    }
    edge.send("GET", &format!("{FUNCTION_PATH}/metrics"), &headers, None)
}

/// Resources in three states, made through the edge (and one by SQL, for its name): one that
/// succeeded, one that failed twice, one whose name holds a quote, a backslash and a newline.
fn scene(edge: &Edge, db: &Db, test: &str) -> Result<[String; 3]> {
    let ok = flow_resource(&format!("{test}_ok"));
    let failing = flow_resource(&format!("{test}_failing"));
    let odd = format!("{}_we\"ird\\name\nline", flow_resource(test));
    let answer = edge.post_as_writer("start", &json!({ "resource": ok }))?;
    check(answer.status == 200, || format!("start {ok}: {answer}"))?;
    let answer = edge.post_as_writer(
        "complete",
        &json!({ "resource": ok, "records_synced": 3, "records_created": 1, "records_updated": 2 }),
    )?;
    check(answer.status == 200, || format!("complete {ok}: {answer}"))?;
    for _ in 0..2 {
        let answer = edge.post_as_writer("start", &json!({ "resource": failing }))?;
        check(answer.status == 200, || {
            format!("start {failing}: {answer}")
        })?;
        let answer = edge.post_as_writer(
            "fail",
            &json!({ "resource": failing, "errors": spec_errors() }),
        )?;
        check(answer.status == 200, || format!("fail {failing}: {answer}"))?;
    }
    db.query(
        "INSERT INTO public.vantage_sync_state (resource) VALUES ($1)",
        &[&odd],
    )?;
    Ok([ok, failing, odd])
}

/// What the database holds for `resource`: health name, health value, consecutive failures,
/// watermark in Unix seconds.
fn in_sql(db: &Db, resource: &str) -> Result<(String, f64, f64, Option<f64>)> {
    let row = db.query_one(
        "SELECT health, (3 - health_rank)::float8, consecutive_failures::float8,
                date_part('epoch', sync_watermark)
           FROM public.vantage_sync_health WHERE resource = $1",
        &[&resource],
    )?;
    Ok((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    ))
}

/// A label value as the text formats write it.
fn escaped(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Whether two values (either may be absent) are the same number, to a millionth: the
/// database's double travels through text twice on its way.
fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-6,
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// The value of the one sample of `family` for `resource` in a text body, if any.
fn sample(body: &str, family: &str, resource: &str) -> Option<f64> {
    let prefix = format!("{family}{{resource=\"{}\"", escaped(resource));
    body.lines()
        .find(|line| line.starts_with(&prefix))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[test]
fn writer_and_metrics_tokens_scrape_and_nothing_else_does() -> Result<()> {
    let (stack, edge, server, db) = setup()?;
    for auth in [edge.writer_auth(), format!("Bearer {METRICS_TOKEN}")] {
        let answer = scrape(&edge, Some(&auth), None)?;
        check(answer.status == 200, || format!("scrape: {answer}"))?;
    }
    let user = format!("Bearer {}", stack.authenticated_jwt());
    let wrong = format!("Bearer {METRICS_TOKEN}0");
    for (what, auth) in [
        ("no token", None),
        ("a wrong token", Some(wrong.as_str())),
        ("a user JWT", Some(user.as_str())),
    ] {
        let answer = scrape(&edge, auth, None)?;
        check(
            answer.status == 401
                && answer.code() == "unauthorized"
                && answer.header("www-authenticate") == Some("Bearer"),
            || format!("{what}: expected 401 unauthorized with WWW-Authenticate, got {answer}"),
        )?;
    }
    // A metrics token is for metrics only: it starts nothing.
    let resource = flow_resource("metrics_token_start");
    let answer = edge.post(
        "start",
        Some(&format!("Bearer {METRICS_TOKEN}")),
        &json!({ "resource": resource }),
    )?;
    check(answer.status == 401, || {
        format!("start with a metrics token: {answer}")
    })?;
    check(db.state(&resource)?.is_none(), || {
        format!("{resource} was written with a metrics token")
    })?;
    // Nothing secret in the log: no token, no header.
    let log = server.log_text();
    for secret in [
        METRICS_TOKEN,
        edge.writer_token(),
        stack.authenticated_jwt(),
    ] {
        check(!log.contains(secret), || {
            format!("the edge's log holds a token: {log}")
        })?;
    }
    let lines = server.log_lines()?;
    check(
        lines.iter().filter(|l| l["route"] == "metrics").count() == 5,
        || format!("one log line per scrape: {lines:?}"),
    )
}

#[test]
fn promtool_accepts_the_body_and_it_holds_what_the_database_holds() -> Result<()> {
    let (_stack, edge, _server, db) = setup()?;
    let resources = scene(&edge, &db, "metrics_promtool")?;
    // No Accept header, as promtool's users fetch it (curl): the 0.0.4 text format.
    let answer = scrape(&edge, Some(&edge.writer_auth()), None)?;
    check(
        answer.status == 200
            && answer.header("content-type") == Some("text/plain; version=0.0.4; charset=utf-8"),
        || format!("scrape: {answer}"),
    )?;
    let (clean, said) = promtool_check(&answer.body)?;
    check(clean && said.trim().is_empty(), || {
        format!("promtool check metrics: {said}\n{}", answer.body)
    })?;
    for resource in &resources {
        let (health, value, failures, watermark) = in_sql(&db, resource)?;
        let line = format!(
            "vantage_sync_health{{resource=\"{}\",health=\"{health}\"}} {value}\n",
            escaped(resource)
        );
        check(answer.body.contains(&line), || {
            format!("no line {line:?} in {}", answer.body)
        })?;
        let served = (
            sample(&answer.body, "vantage_sync_consecutive_failures", resource),
            sample(
                &answer.body,
                "vantage_sync_watermark_timestamp_seconds",
                resource,
            ),
        );
        check(
            same(served.0, Some(failures)) && same(served.1, watermark),
            || {
                format!(
                    "{resource:?}: served {served:?}, the database holds ({failures}, {watermark:?})"
                )
            },
        )?;
    }
    // Its own counters: the 5 requests of the scene, then this scrape (not counted yet).
    let counters: Vec<&str> = answer
        .body
        .lines()
        .filter(|l| l.starts_with("vantage_sync_edge_requests_total{"))
        .collect();
    check(
        counters
            == [
                "vantage_sync_edge_requests_total{route=\"complete\",status=\"200\"} 1",
                "vantage_sync_edge_requests_total{route=\"fail\",status=\"200\"} 2",
                "vantage_sync_edge_requests_total{route=\"start\",status=\"200\"} 3",
            ],
        || format!("request counters: {counters:?}"),
    )?;
    // Prometheus asks for OpenMetrics and gets it, ended by # EOF.
    let answer = scrape(&edge, Some(&edge.writer_auth()), Some(OPENMETRICS_ACCEPT))?;
    check(
        answer.header("content-type")
            == Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
            && answer.body.ends_with("# EOF\n")
            && answer
                .body
                .contains("# UNIT vantage_sync_running_seconds seconds\n"),
        || format!("OpenMetrics scrape: {answer}"),
    )
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario against the real stack, step by step: split, its order would be harder to follow"
)]
fn a_prometheus_server_scrapes_it_and_answers_what_the_database_holds() -> Result<()> {
    let (_stack, edge, _server, db) = setup()?;
    let resources = scene(&edge, &db, "metrics_server")?;
    let target = edge.origin().trim_start_matches("http://").to_owned();
    let mut prometheus =
        Prometheus::start(&target, &format!("{FUNCTION_PATH}/metrics"), METRICS_TOKEN)?;
    prometheus.wait(Duration::from_secs(60), "target up", |p| {
        Ok(p.target()?["health"] == "up")
    })?;
    let target_state = prometheus.target()?;
    check(target_state["lastError"] == "", || {
        format!("the target is up with an error: {target_state}")
    })?;
    // Once a scrape after the scene is stored, every resource of it has its series.
    let selector = format!("{{job=\"{JOB}\"}}");
    prometheus.wait(Duration::from_secs(30), "the scene's series", |p| {
        let got = p.query(&format!("vantage_sync_health{selector}"))?;
        Ok(resources
            .iter()
            .all(|r| got.iter().any(|s| s["metric"]["resource"] == r.as_str())))
    })?;
    let by_resource = |family: &str| -> Result<BTreeMap<String, (Value, f64)>> {
        Ok(prometheus
            .query(&format!("{family}{selector}"))?
            .into_iter()
            .filter_map(|s| {
                let value = s["value"][1].as_str()?.parse::<f64>().ok()?;
                Some((
                    s["metric"]["resource"].as_str()?.to_owned(),
                    (s["metric"].clone(), value),
                ))
            })
            .collect())
    };
    let health = by_resource("vantage_sync_health")?;
    let failures = by_resource("vantage_sync_consecutive_failures")?;
    let watermarks = by_resource("vantage_sync_watermark_timestamp_seconds")?;
    for resource in &resources {
        let (name, value, failed, watermark) = in_sql(&db, resource)?;
        let got = health.get(resource);
        check(
            got.is_some_and(|(labels, v)| {
                labels["health"] == name.as_str() && same(Some(*v), Some(value))
            }),
            || format!("{resource:?}: Prometheus has {got:?}, the database {name} {value}"),
        )?;
        let got = failures.get(resource).map(|(_, v)| *v);
        check(same(got, Some(failed)), || {
            format!("{resource:?}: Prometheus has {got:?} failures, the database {failed}")
        })?;
        let got = watermarks.get(resource).map(|(_, v)| *v);
        check(
            got.zip(watermark)
                .map_or(got.is_none() && watermark.is_none(), |(a, b)| {
                    (a - b).abs() < 1e-6
                }),
            || {
                format!(
                    "{resource:?}: Prometheus has watermark {got:?}, the database {watermark:?}"
                )
            },
        )?;
    }
    // The unit comes only from OpenMetrics' # UNIT line: Prometheus parsed that format.
    let metadata = prometheus.api(
        "/api/v1/targets/metadata",
        &[("metric", "vantage_sync_running_seconds")],
    )?;
    check(metadata[0]["unit"] == "seconds", || {
        format!("metadata of vantage_sync_running_seconds: {metadata}")
    })?;
    // A scrape is counted once answered, so the edge's count of them shows from the next one.
    let counter = format!(
        "vantage_sync_edge_requests_total{{job=\"{JOB}\",route=\"metrics\",status=\"200\"}}"
    );
    prometheus.wait(
        Duration::from_secs(30),
        "the edge's count of its scrapes",
        |p| {
            Ok(p.query(&counter)?
                .first()
                .and_then(|s| s["value"][1].as_str()?.parse::<f64>().ok())
                .is_some_and(|n| n >= 1.0))
        },
    )
}
