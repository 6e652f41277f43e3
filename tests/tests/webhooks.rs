//! Webhooks end to end: a real receiver on loopback, an edge server of the test's own, the
//! stack's PostgREST and Postgres. The signature verifies (HMAC-SHA256 over "t.body", checked
//! here with its own code, not the edge's); `failed` then `recovered` arrive in order; a
//! receiver that is down gets the event exactly once after it comes back (through the sweep);
//! a slow receiver does not hold up the ETL call; the sweep delivers `stuck`; bad subscription
//! URLs and unknown events are refused. The opt-in events: `completed` and `slow` arrive only
//! at a subscription that lists them (the alerting set, every earlier subscription's, gets no
//! new traffic), and the sweep delivers `late`.
//!
//! Each test owns its subscription (deleted at the end) and its resources (`it_flow_…`);
//! counts are per resource, since other tests' transitions may reach the same receiver.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use vantage_sync_tests::edge::{Edge, EdgeProcess, stack_server_env};
use vantage_sync_tests::receiver::{Received, Receiver, subscribe, unsubscribe};
use vantage_sync_tests::spec::flow_resource;
use vantage_sync_tests::{
    Credential, CredentialKind, Db, Error, Request, Rest, Result, Stack, check,
};

const SECRET: &str = "whsec_test_0123456789abcdefghijklmnop";
const DASHBOARD: &str = "https://app.example.com/sync";
const PATIENCE: Duration = Duration::from_secs(15);

/// The events a subscription got before `completed`, `slow` and `late` existed, and still gets
/// when it names none.
const ALERTING: [&str; 5] = ["failed", "stuck", "repeated_failures", "recovered", "stale"];

/// An edge server of the test's own (dashboard link set, loopback receivers allowed), a
/// subscription to events of its own resource at `url` (the alerting set unless the test
/// picks), and a way to delete it.
struct Setup {
    db: Db,
    edge: Edge,
    process: EdgeProcess,
    webhook_id: String,
    resource: String,
}

impl Setup {
    fn new(url: &str, test: &str) -> Result<Self> {
        Self::build(url, test, &[], &ALERTING)
    }

    /// As [`Setup::new`], subscribed to `events`.
    fn with_events(url: &str, test: &str, events: &[&str]) -> Result<Self> {
        Self::build(url, test, &[], events)
    }

    /// As [`Setup::new`], with `settings` replacing the edge server's settings of the same
    /// names or added to them.
    fn with_env(url: &str, test: &str, settings: &[(&'static str, String)]) -> Result<Self> {
        Self::build(url, test, settings, &ALERTING)
    }

    fn build(
        url: &str,
        test: &str,
        settings: &[(&'static str, String)],
        events: &[&str],
    ) -> Result<Self> {
        let resource = flow_resource(test);
        let stack = Stack::load()?;
        let db = Db::connect(&stack)?;
        let stack_edge = Edge::load(&stack)?;
        let mut env = stack_server_env(&stack, &stack_edge)?;
        env.retain(|(name, _)| settings.iter().all(|(replaced, _)| replaced != name));
        env.extend(settings.iter().cloned());
        env.push(("VANTAGE_DASHBOARD_URL", DASHBOARD.to_owned()));
        let process = EdgeProcess::start(stack_edge.binary(), &env)?;
        let edge = stack_edge.at(&process.base_url())?;
        let webhook_id = subscribe(&db, url, events, &resource, SECRET)?;
        Ok(Self {
            db,
            edge,
            process,
            webhook_id,
            resource,
        })
    }

    fn run(&self, resource: &str, finish: &str) -> Result<String> {
        self.edge.sync_once(resource, finish)
    }

    /// The deliveries of `resource`: (event, status, attempts), oldest first.
    fn deliveries(&self, resource: &str) -> Result<Vec<(String, String, i32)>> {
        self.db
            .query(
                "SELECT event, status, attempts FROM public.vantage_sync_webhook_deliveries
                  WHERE resource = $1 AND webhook_id::text = $2 ORDER BY created_at",
                &[&resource, &self.webhook_id],
            )?
            .iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }
}

impl Setup {
    /// The errors of the attempts to deliver `resource`'s events, once there is one.
    fn attempt_errors(&self, resource: &str) -> Result<Vec<Option<String>>> {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let errors: Vec<Option<String>> = self
                .db
                .query(
                    "SELECT a.error FROM public.vantage_sync_webhook_attempts a
                       JOIN public.vantage_sync_webhook_deliveries d USING (delivery_id)
                      WHERE d.resource = $1 AND d.webhook_id::text = $2",
                    &[&resource, &self.webhook_id],
                )?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
            if !errors.is_empty() || std::time::Instant::now() > deadline {
                return Ok(errors);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = unsubscribe(&self.db, &self.webhook_id);
    }
}

fn for_resource(received: &[Received], resource: &str) -> Vec<Received> {
    received
        .iter()
        .filter(|r| r.json()["resource"] == resource)
        .cloned()
        .collect()
}

/// Verifies `Vantage-Signature` the way the README tells a receiver to.
fn signature_problem(received: &Received) -> Option<String> {
    let header = received.header("vantage-signature")?;
    let mut timestamp = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", hex)) => v1 = Some(hex.to_owned()),
            _ => {}
        }
    }
    let (Some(timestamp), Some(v1)) = (timestamp, v1) else {
        return Some(format!("malformed signature header {header:?}"));
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    if (now - timestamp).abs() > 300 {
        return Some(format!(
            "timestamp {timestamp} is more than 5 minutes from {now}"
        ));
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()) else {
        return Some("bad key".into());
    };
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(&received.body);
    let Ok(expected) = hex::decode(&v1) else {
        return Some(format!("v1 is not hex: {v1}"));
    };
    mac.verify_slice(&expected)
        .err()
        .map(|_| "the HMAC does not match the body".to_owned())
}

#[test]
fn failed_then_recovered_arrive_in_order_signed() -> Result<()> {
    let receiver = Receiver::start()?;
    let setup = Setup::new(&receiver.url(), "wh_order")?;
    let resource = setup.resource.clone();
    let failed_run = setup.run(&resource, "fail")?;
    let got = for_resource(&receiver.wait_for(1, PATIENCE), &resource);
    check(got.len() == 1, || {
        format!("expected the failed event, got {got:?}")
    })?;
    let recovered_run = setup.run(&resource, "complete")?;
    let _ = receiver.wait_for(2, PATIENCE);
    let got = for_resource(&receiver.received(), &resource);
    let events: Vec<String> = got
        .iter()
        .map(|r| r.json()["event"].as_str().unwrap_or("").to_owned())
        .collect();
    check(events == ["failed", "recovered"], || {
        format!("events in order: {events:?}")
    })?;
    for (received, run_id) in got.iter().zip([&failed_run, &recovered_run]) {
        if let Some(problem) = signature_problem(received) {
            return Err(Error::Check(problem));
        }
        let body = received.json();
        check(body["run_id"] == run_id.as_str(), || {
            format!("run id of {body}")
        })?;
        check(
            received.header("vantage-event") == body["event"].as_str(),
            || "the Vantage-Event header names the event".into(),
        )?;
        check(
            received.header("vantage-delivery") == body["delivery_id"].as_str(),
            || "the Vantage-Delivery header is the delivery id".into(),
        )?;
        check(
            body["dashboard_url"] == format!("{DASHBOARD}#resource={resource}").as_str(),
            || format!("dashboard link: {body}"),
        )?;
        check(
            body["text"].as_str().is_some_and(|t| t.contains(&resource)),
            || format!("a Slack text naming the resource: {body}"),
        )?;
    }
    check(got[0].json()["health"] == "red", || "failed is red".into())?;
    check(got[1].json()["health"] == "green", || {
        "recovered is green".into()
    })?;
    // A tampered body does not verify.
    let mut tampered = got[0].clone();
    tampered.body = br#"{"event":"recovered"}"#.to_vec();
    check(signature_problem(&tampered).is_some(), || {
        "a tampered body must not verify".into()
    })?;
    let deliveries = setup.deliveries(&resource)?;
    check(
        deliveries
            == [
                ("failed".to_owned(), "delivered".to_owned(), 1),
                ("recovered".to_owned(), "delivered".to_owned(), 1),
            ],
        || format!("deliveries: {deliveries:?}"),
    )
}

#[test]
fn a_receiver_that_was_down_gets_the_event_exactly_once() -> Result<()> {
    let mut receiver = Receiver::start_on_a_reserved_port()?;
    receiver.stop();
    let setup = Setup::new(&receiver.url(), "wh_down")?;
    let resource = setup.resource.clone();
    setup.run(&resource, "fail")?;
    // The first attempt (right after the answer) finds nobody listening.
    let deadline = std::time::Instant::now() + PATIENCE;
    while setup
        .deliveries(&resource)?
        .first()
        .is_none_or(|d| d.2 == 0)
    {
        check(std::time::Instant::now() < deadline, || {
            format!(
                "the first attempt was never recorded: {:?}; the edge logged:\n{}",
                setup.deliveries(&resource).ok(),
                setup.process.log_text()
            )
        })?;
        std::thread::sleep(Duration::from_millis(100));
    }
    let after_first = setup.deliveries(&resource)?;
    check(
        after_first == [("failed".into(), "pending".into(), 1)],
        || format!("after the refused attempt: {after_first:?}"),
    )?;
    // The receiver comes back; the retry falls due (time moved on by hand); the cron sweeps.
    receiver.resume()?;
    setup.db.query(
        "UPDATE public.vantage_sync_webhook_deliveries SET next_attempt_at = now() WHERE resource = $1",
        &[&resource],
    )?;
    for _ in 0..2 {
        let swept = setup.edge.post_as_writer("sweep", &json!({}))?;
        check(swept.status == 200, || format!("sweep: {swept}"))?;
    }
    let got = for_resource(&receiver.received(), &resource);
    check(got.len() == 1, || {
        format!(
            "exactly one delivery after the receiver came back, got {}",
            got.len()
        )
    })?;
    let deliveries = setup.deliveries(&resource)?;
    check(
        deliveries == [("failed".into(), "delivered".into(), 2)],
        || format!("deliveries: {deliveries:?}"),
    )?;
    let attempts: Vec<(Option<i32>, Option<String>)> = setup
        .db
        .query(
            "SELECT a.response_code, a.error FROM public.vantage_sync_webhook_attempts a
               JOIN public.vantage_sync_webhook_deliveries d USING (delivery_id)
              WHERE d.resource = $1 ORDER BY a.attempt",
            &[&resource],
        )?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_>>()?;
    check(
        attempts.len() == 2
            && attempts[0].0.is_none()
            && attempts[0]
                .1
                .as_deref()
                .is_some_and(|e| e.contains("no answer"))
            && attempts[1].0 == Some(200),
        || format!("both attempts recorded: {attempts:?}"),
    )
}

#[test]
fn a_slow_receiver_does_not_hold_up_the_etl_call() -> Result<()> {
    let receiver = Receiver::start()?;
    receiver.delay_answers(Duration::from_secs(3));
    let setup = Setup::new(&receiver.url(), "wh_slow")?;
    let resource = setup.resource.clone();
    setup.run(&resource, "fail")?;
    // The ETL call has its answer while the receiver has not answered yet.
    let right_after = setup.deliveries(&resource)?;
    check(
        right_after == [("failed".into(), "pending".into(), 0)],
        || format!("the fail call waited for the receiver: {right_after:?}"),
    )?;
    let got = for_resource(&receiver.wait_for(1, PATIENCE), &resource);
    check(got.len() == 1, || "the event still arrives".into())
}

#[test]
fn the_sweep_fails_a_stuck_run_and_delivers_stuck() -> Result<()> {
    let receiver = Receiver::start()?;
    let setup = Setup::new(&receiver.url(), "wh_stuck")?;
    let resource = setup.resource.clone();
    setup.db.query(
        "INSERT INTO public.vantage_sync_schedules (resource, stuck_after) VALUES ($1, interval '1 second')",
        &[&resource],
    )?;
    let started = setup
        .edge
        .post_as_writer("start", &json!({ "resource": resource }))?;
    check(started.status == 200, || format!("start: {started}"))?;
    std::thread::sleep(Duration::from_millis(1100));
    let swept = setup.edge.post_as_writer("sweep", &json!({}))?;
    check(swept.status == 200, || format!("sweep: {swept}"))?;
    let answer = swept.json();
    check(answer["swept"].as_i64() >= Some(1), || {
        format!("the sweep's answer: {answer}")
    })?;
    check(
        answer["deliveries"]["delivered"].as_u64() >= Some(1),
        || format!("the sweep delivers before answering: {answer}"),
    )?;
    let got = for_resource(&receiver.received(), &resource);
    let body: Value = got.first().map(Received::json).unwrap_or_default();
    check(
        body["event"] == "stuck" && body["errors"][0]["code"] == "STUCK_TIMEOUT",
        || format!("the stuck event: {body}"),
    )
}

#[test]
fn only_the_writer_token_may_sweep() -> Result<()> {
    let stack = Stack::load()?;
    let edge = Edge::load(&stack)?;
    for auth in [
        None,
        Some(format!("Bearer {}", stack.authenticated_jwt())),
        Some(format!("Bearer {}", stack.service_role_key())),
    ] {
        let answer = edge.post("sweep", auth.as_deref(), &json!({}))?;
        check(matches!(answer.status, 401 | 403), || {
            format!("sweep without the writer token: {answer}")
        })?;
    }
    Ok(())
}

/// `completed` on every success and `slow` for a run over its `slow_after`, in that order, to
/// the subscription that picked them; a subscription with the alerting set on the same
/// resource gets no delivery for either (its outbox holds nothing).
#[test]
fn completed_and_slow_reach_only_the_subscriptions_that_picked_them() -> Result<()> {
    let receiver = Receiver::start()?;
    let setup = Setup::with_events(&receiver.url(), "wh_completed", &["completed", "slow"])?;
    let resource = setup.resource.clone();
    let alerting: String = setup
        .db
        .query_one(
            "INSERT INTO public.vantage_sync_webhooks (url, resources, secret)
             VALUES ($1, ARRAY[$2], $3) RETURNING webhook_id::text",
            &[&receiver.url(), &resource, &SECRET],
        )?
        .try_get(0)?;
    setup.db.query(
        "INSERT INTO public.vantage_sync_schedules (resource, slow_after) VALUES ($1, interval '1 millisecond')",
        &[&resource],
    )?;
    let run_id = setup.run(&resource, "complete")?;
    let _ = receiver.wait_for(2, PATIENCE);
    let got = for_resource(&receiver.received(), &resource);
    let alerting_deliveries = setup.db.query(
        "SELECT event FROM public.vantage_sync_webhook_deliveries WHERE webhook_id::text = $1",
        &[&alerting],
    )?;
    unsubscribe(&setup.db, &alerting)?;
    let mut events: Vec<String> = got
        .iter()
        .map(|r| r.json()["event"].as_str().unwrap_or("").to_owned())
        .collect();
    // Both come from one completion and are sent side by side: their order is not promised.
    events.sort();
    check(events == ["completed", "slow"], || {
        format!("completed and slow, once each: {events:?}")
    })?;
    for received in &got {
        if let Some(problem) = signature_problem(received) {
            return Err(Error::Check(problem));
        }
        let body = received.json();
        check(
            body["run_id"] == run_id.as_str() && body["records_synced"] == 3,
            || format!("the run and its records: {body}"),
        )?;
        check(body["sync_watermark"].is_string(), || {
            format!("the new watermark: {body}")
        })?;
    }
    let body_of = |event: &str| {
        got.iter()
            .map(Received::json)
            .find(|body| body["event"] == event)
            .unwrap_or_default()
    };
    let completed = body_of("completed");
    check(
        completed["text"]
            .as_str()
            .is_some_and(|t| t.contains(&resource) && t.contains("synced 3 records")),
        || format!("a Slack text for completed: {completed}"),
    )?;
    let slow = body_of("slow");
    check(
        slow["text"]
            .as_str()
            .is_some_and(|t| t.contains(&resource) && t.contains("slow")),
        || format!("a Slack text for slow: {slow}"),
    )?;
    check(alerting_deliveries.is_empty(), || {
        format!(
            "the alerting subscription got {} deliveries for a success",
            alerting_deliveries.len()
        )
    })
}

/// A scheduled resource whose next run is overdue past its grace is late: the sweep counts it
/// in `late_events` and delivers `late`, once per missed run.
#[test]
fn the_sweep_delivers_late_once_per_missed_run() -> Result<()> {
    let receiver = Receiver::start()?;
    let setup = Setup::with_events(&receiver.url(), "wh_late", &["late"])?;
    let resource = setup.resource.clone();
    setup.db.query(
        "INSERT INTO public.vantage_sync_schedules (resource, expected_interval, late_grace)
         VALUES ($1, interval '1 hour', interval '10 minutes')",
        &[&resource],
    )?;
    setup.run(&resource, "complete")?;
    // The run started 2 hours ago, as far as the rules can tell.
    setup.db.query(
        "UPDATE public.vantage_sync_state SET started_at = started_at - interval '2 hours',
                completed_at = completed_at - interval '2 hours', last_sync_time = last_sync_time - interval '2 hours'
          WHERE resource = $1",
        &[&resource],
    )?;
    let swept = setup.edge.post_as_writer("sweep", &json!({}))?;
    check(swept.status == 200, || format!("sweep: {swept}"))?;
    let answer = swept.json();
    check(answer["late_events"].as_i64() >= Some(1), || {
        format!("the sweep counts late events: {answer}")
    })?;
    let again = setup.edge.post_as_writer("sweep", &json!({}))?;
    check(again.status == 200, || format!("second sweep: {again}"))?;
    let got = for_resource(&receiver.received(), &resource);
    check(got.len() == 1, || {
        format!("late arrives once for one missed run, got {}", got.len())
    })?;
    let body = got[0].json();
    check(
        body["event"] == "late"
            && body["health"] == "yellow"
            && body["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "late"))
            && body["next_sync_due_at"].is_string(),
        || format!("the late event: {body}"),
    )?;
    check(
        body["text"]
            .as_str()
            .is_some_and(|t| t.contains(&resource) && t.contains("late")),
        || format!("a Slack text for late: {body}"),
    )
}

#[test]
fn unknown_events_are_refused_with_a_sentence_and_nothing_is_written() -> Result<()> {
    let stack = Stack::load()?;
    let rest = Rest::new(&stack)?;
    let service = Credential::new(CredentialKind::ServiceRole, &stack)?;
    let db = Db::connect(&stack)?;
    let url = format!(
        "https://hooks.example.com/{}",
        flow_resource("wh_unknown_event")
    );
    for events in [json!(["failed", "finished"]), json!([]), json!(null)] {
        let answer = rest.send(
            &Request::post(
                "/vantage_sync_webhooks",
                json!({ "url": url, "events": events, "secret": SECRET }),
            ),
            &service,
        )?;
        let body = answer.json().unwrap_or_default();
        let message = body["message"].as_str().unwrap_or("");
        check(
            answer.status() == 400
                && body["code"] == "22023"
                && (message.starts_with("unknown webhook event")
                    || message.starts_with("a webhook subscription needs at least one event")),
            || format!("events {events} must be refused with 400 and a sentence: {answer}"),
        )?;
    }
    let written = db.query(
        "SELECT 1 FROM public.vantage_sync_webhooks WHERE url = $1",
        &[&url],
    )?;
    check(written.is_empty(), || {
        "a refused subscription was written".into()
    })
}

#[test]
fn bad_subscription_urls_are_refused() -> Result<()> {
    let stack = Stack::load()?;
    let rest = Rest::new(&stack)?;
    let service = Credential::new(CredentialKind::ServiceRole, &stack)?;
    for url in [
        "ftp://hooks.example.com/x",
        "https://user:password@hooks.example.com/x",
        "hooks.example.com/x",
        "https://hooks.example.com/a b",
    ] {
        let answer = rest.send(
            &Request::post(
                "/vantage_sync_webhooks",
                json!({ "url": url, "events": ["failed"], "secret": SECRET }),
            ),
            &service,
        )?;
        check(answer.status() == 400, || {
            format!("{url} must be refused with 400: {answer}")
        })?;
    }
    // Loopback and private addresses: refused outside the local stack's test mode.
    let db = Db::connect(&stack)?;
    let refused = db.query(
        "SELECT vantage_sync_private.webhook_url_problem(u) FROM unnest($1::text[]) AS u",
        &[&vec![
            "http://127.0.0.1/x",
            "http://10.0.0.8/x",
            "http://169.254.169.254/",
        ]],
    )?;
    check(
        refused
            .iter()
            .all(|row| row.try_get::<_, Option<String>>(0).ok().flatten().is_some()),
        || "private addresses must have a problem".into(),
    )
}

/// A name for this machine that resolves only to loopback or private addresses and is not
/// `localhost` (which the URL check refuses by name): the host name (loopback or the
/// container's private address on the usual Linux machine), else Debian's `ip6-localhost`.
fn private_host_name() -> Result<String> {
    use std::net::{IpAddr, ToSocketAddrs};
    let private = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback(),
    };
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let mut tried = Vec::new();
    for name in [host_name.trim(), "ip6-localhost"] {
        let addresses: Vec<IpAddr> = (name, 0)
            .to_socket_addrs()
            .map(|found| found.map(|a| a.ip()).collect())
            .unwrap_or_default();
        if !addresses.is_empty() && addresses.iter().all(|ip| private(*ip)) {
            return Ok(name.to_owned());
        }
        tried.push(format!("{name} -> {addresses:?}"));
    }
    Err(Error::Check(format!(
        "no name of this machine resolves only to private addresses: {tried:?}"
    )))
}

/// An edge that allows no private receivers sends nothing to a receiver on loopback that the
/// URL names another way: the address spelled `127.1` (what fetch and reqwest connect to is
/// 127.0.0.1), or a host name that resolves to a private address, even with a proxy in the
/// environment (the receiver itself posing as one: a proxy would connect to the name
/// unchecked). Without the checks each would reach this receiver; each attempt is recorded
/// with why it was not sent.
#[test]
fn private_receivers_under_other_names_get_nothing() -> Result<()> {
    let receiver = Receiver::start()?;
    let name = private_host_name()?;
    let proxy = receiver.url().replace("/hook", "");
    let settings = [
        ("VANTAGE_WEBHOOKS_ALLOW_PRIVATE", "false".to_owned()),
        ("HTTP_PROXY", proxy),
        ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
    ];
    for (test, host, why) in [
        ("wh_spelled", "127.1", "points at 127.0.0.1"),
        ("wh_named", name.as_str(), "resolves to no public address"),
    ] {
        let url = receiver.url().replacen("127.0.0.1", host, 1);
        let setup = Setup::with_env(&url, test, &settings)?;
        let resource = setup.resource.clone();
        setup.run(&resource, "fail")?;
        let errors = setup.attempt_errors(&resource)?;
        check(
            !errors.is_empty()
                && errors.iter().all(|e| {
                    e.as_deref()
                        .is_some_and(|e| e.starts_with("not sent: ") && e.contains(why))
                }),
            || format!("{url}: attempts must say \"not sent: …{why}…\": {errors:?}"),
        )?;
        let got = receiver.received();
        check(got.is_empty(), || {
            format!("{url} reached the receiver: {got:?}")
        })?;
    }
    Ok(())
}

/// A receiver's redirect is its answer: the edge records `302` and never calls where it
/// points (here another receiver; it could as well be a private address).
#[test]
fn a_receivers_redirect_is_not_followed() -> Result<()> {
    let receiver = Receiver::start()?;
    let elsewhere = Receiver::start()?;
    receiver.redirect_to(&elsewhere.url())?;
    let setup = Setup::new(&receiver.url(), "wh_redirect")?;
    let resource = setup.resource.clone();
    setup.run(&resource, "fail")?;
    let errors = setup.attempt_errors(&resource)?;
    check(
        errors
            .iter()
            .any(|e| e.as_deref() == Some("the receiver answered 302")),
        || format!("the attempt must record the 302: {errors:?}"),
    )?;
    check(
        for_resource(&receiver.received(), &resource).len() == 1,
        || "the receiver got the event once".into(),
    )?;
    let followed = elsewhere.received();
    check(followed.is_empty(), || {
        format!("the redirect was followed: {followed:?}")
    })
}
