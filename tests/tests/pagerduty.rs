//! PagerDuty end to end: a receiver that plays PagerDuty's Events API v2 and checks every event
//! against its published schema (`receiver/events_api.rs`), an edge server of the test's own,
//! the stack's PostgREST and Postgres. A failing streak triggers with `dedup_key` = the
//! resource and one success resolves it; stale triggers a warning that the next success
//! resolves; a 429 is retried after the backoff of every receiver, a 400 is given up at once
//! with PagerDuty's reason; the routing key is in no edge log line and no PostgREST read, and a
//! bad one is refused when the subscription is made.
//!
//! Each test owns its subscription (deleted at the end) and its resource (`it_flow_…`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vantage_sync_tests::edge::{Edge, EdgeProcess, stack_server_env};
use vantage_sync_tests::receiver::{Received, Receiver, unsubscribe};
use vantage_sync_tests::spec::flow_resource;
use vantage_sync_tests::{Credential, CredentialKind, Db, Request, Rest, Result, Stack, check};

/// A routing key as PagerDuty makes them: 32 letters and digits.
const ROUTING_KEY: &str = "R0utingKeyForTests0123456789abcd";
const PATIENCE: Duration = Duration::from_secs(15);

/// A delivery as the outbox holds it: event, status, attempts, `last_error`.
type Delivery = (String, String, i32, Option<String>);

/// An edge server of the test's own, and a PagerDuty subscription to its own resource's
/// `failed`, `stuck`, `repeated_failures`, `stale` and `late` at the receiver's URL.
struct Setup {
    db: Db,
    edge: Edge,
    process: EdgeProcess,
    webhook_id: String,
    resource: String,
}

impl Setup {
    fn new(receiver: &Receiver, test: &str) -> Result<Self> {
        let resource = flow_resource(test);
        let stack = Stack::load()?;
        let db = Db::connect(&stack)?;
        let stack_edge = Edge::load(&stack)?;
        let mut env = stack_server_env(&stack, &stack_edge)?;
        env.push((
            "VANTAGE_DASHBOARD_URL",
            "https://app.example.com/sync".to_owned(),
        ));
        let process = EdgeProcess::start(stack_edge.binary(), &env)?;
        let edge = stack_edge.at(&process.base_url())?;
        db.query(
            "INSERT INTO public.vantage_sync_state (resource) VALUES ($1)",
            &[&resource],
        )?;
        let webhook_id: String = db
            .query_one(
                "INSERT INTO public.vantage_sync_webhooks (kind, url, events, resources, secret)
                 VALUES ('pagerduty', $1, '{failed,stuck,repeated_failures,stale,late}', ARRAY[$2], $3)
                 RETURNING webhook_id::text",
                &[&receiver.url(), &resource, &ROUTING_KEY],
            )?
            .try_get(0)?;
        Ok(Self {
            db,
            edge,
            process,
            webhook_id,
            resource,
        })
    }

    fn run(&self, finish: &str) -> Result<()> {
        self.edge.sync_once(&self.resource, finish).map(drop)
    }

    /// The deliveries: (event, status, attempts, `last_error`), oldest first.
    fn deliveries(&self) -> Result<Vec<Delivery>> {
        self.db
            .query(
                "SELECT event, status, attempts, last_error FROM public.vantage_sync_webhook_deliveries
                  WHERE webhook_id::text = $1 ORDER BY created_at",
                &[&self.webhook_id],
            )?
            .iter()
            .map(|row| {
                Ok((
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                ))
            })
            .collect()
    }

    /// Waits until `count` deliveries exist and none is still waiting for its first attempt
    /// (the edge sends after it has answered); returns them.
    fn settled(&self, count: usize) -> Result<Vec<Delivery>> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let deliveries = self.deliveries()?;
            if (deliveries.len() >= count && deliveries.iter().all(|d| d.2 > 0))
                || Instant::now() > deadline
            {
                return Ok(deliveries);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn sweep(&self) -> Result<Value> {
        let swept = self.edge.post_as_writer("sweep", &json!({}))?;
        check(swept.status == 200, || format!("sweep: {swept}"))?;
        Ok(swept.json())
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = unsubscribe(&self.db, &self.webhook_id);
    }
}

/// The events the receiver got: (`event_action`, `dedup_key`, severity).
fn actions(received: &[Received]) -> Vec<(String, String, String)> {
    received
        .iter()
        .map(|r| {
            let event = r.json();
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                text(&event["event_action"]),
                text(&event["dedup_key"]),
                text(&event["payload"]["severity"]),
            )
        })
        .collect()
}

fn delivered(events: &[&str]) -> Vec<Delivery> {
    events
        .iter()
        .map(|e| ((*e).to_owned(), "delivered".to_owned(), 1, None))
        .collect()
}

#[test]
fn a_failing_streak_is_one_incident_and_the_success_resolves_it() -> Result<()> {
    let receiver = Receiver::start_pagerduty()?;
    let setup = Setup::new(&receiver, "pd_streak")?;
    let resource = setup.resource.clone();
    setup.run("fail")?;
    setup.settled(1)?;
    setup.run("fail")?;
    setup.settled(2)?;
    setup.run("complete")?;
    let deliveries = setup.settled(3)?;
    // Every event passed the receiver's schema check: PagerDuty's 202 delivered it.
    check(
        deliveries == delivered(&["failed", "failed", "recovered"]),
        || {
            format!(
                "deliveries: {deliveries:?}; the edge logged:\n{}",
                setup.process.log_text()
            )
        },
    )?;
    let got = receiver.received();
    let expected = [
        ("trigger", resource.as_str(), "critical"),
        ("trigger", resource.as_str(), "critical"),
        ("resolve", resource.as_str(), ""),
    ]
    .map(|(a, d, s)| (a.to_owned(), d.to_owned(), s.to_owned()));
    check(actions(&got) == expected, || {
        format!("two triggers and one resolve, keyed by the resource: {got:?}")
    })?;
    let first = got[0].json();
    check(
        first["routing_key"] == ROUTING_KEY
            && first["payload"]["summary"]
                .as_str()
                .is_some_and(|s| s.contains(&resource) && s.contains("E_TEST"))
            && first["payload"]["custom_details"]["resource"] == resource.as_str()
            && first["links"][0]["href"]
                .as_str()
                .is_some_and(|h| h.ends_with(&format!("#resource={resource}"))),
        || format!("the trigger: {first}"),
    )?;
    check(
        got.iter().all(|r| r.header("vantage-signature").is_none()),
        || "PagerDuty events are not signed".to_owned(),
    )?;
    check(!setup.process.log_text().contains(ROUTING_KEY), || {
        "the routing key is in the edge's log".to_owned()
    })
}

#[test]
fn stale_triggers_a_warning_and_the_next_success_resolves_it() -> Result<()> {
    let receiver = Receiver::start_pagerduty()?;
    let setup = Setup::new(&receiver, "pd_stale")?;
    let resource = setup.resource.clone();
    setup.run("complete")?;
    setup.db.query(
        "UPDATE public.vantage_sync_state SET last_sync_time = last_sync_time - interval '3 days'
          WHERE resource = $1",
        &[&resource],
    )?;
    setup.sweep()?;
    let after_sweep = setup.settled(1)?;
    check(after_sweep == delivered(&["stale"]), || {
        format!("the sweep delivers stale: {after_sweep:?}")
    })?;
    setup.run("complete")?;
    let deliveries = setup.settled(2)?;
    check(deliveries == delivered(&["stale", "recovered"]), || {
        format!("the success resolves the stale incident: {deliveries:?}")
    })?;
    let got = actions(&receiver.received());
    let expected = [
        ("trigger", resource.as_str(), "warning"),
        ("resolve", resource.as_str(), ""),
    ]
    .map(|(a, d, s)| (a.to_owned(), d.to_owned(), s.to_owned()));
    check(got == expected, || format!("received: {got:?}"))
}

/// 429 and 5xx are PagerDuty's "try later": retried after 30 s like every receiver's failure
/// (the retry falls due by hand here, then the sweep sends it). Another 4xx is final: given up
/// after one attempt, with PagerDuty's message as the reason, and never sent again.
#[test]
fn a_429_is_retried_and_a_400_is_given_up_with_pagerdutys_reason() -> Result<()> {
    let receiver = Receiver::start_pagerduty()?;
    receiver.answer_with(429)?;
    let setup = Setup::new(&receiver, "pd_retry")?;
    setup.run("fail")?;
    let first = setup.settled(1)?;
    check(
        first.len() == 1
            && first[0].1 == "pending"
            && first[0].2 == 1
            && first[0]
                .3
                .as_deref()
                .is_some_and(|e| e.starts_with("PagerDuty answered 429")),
        || format!("after the 429: {first:?}"),
    )?;
    let backoff: f64 = setup
        .db
        .query_one(
            "SELECT extract(epoch FROM d.next_attempt_at - a.attempted_at)::float8
               FROM public.vantage_sync_webhook_deliveries d
               JOIN public.vantage_sync_webhook_attempts a USING (delivery_id)
              WHERE d.webhook_id::text = $1",
            &[&setup.webhook_id],
        )?
        .try_get(0)?;
    check((backoff - 30.0).abs() < 0.001, || {
        format!("the retry is due 30 s after the 429, as for every receiver: {backoff} s")
    })?;
    receiver.answer_with(202)?;
    setup.db.query(
        "UPDATE public.vantage_sync_webhook_deliveries SET next_attempt_at = now() WHERE webhook_id::text = $1",
        &[&setup.webhook_id],
    )?;
    setup.sweep()?;
    let retried = setup.deliveries()?;
    check(
        retried.len() == 1 && retried[0].1 == "delivered" && retried[0].2 == 2,
        || format!("the retry delivers: {retried:?}"),
    )?;

    receiver.answer_with(400)?;
    setup.run("fail")?;
    let deliveries = setup.settled(2)?;
    let reason =
        "PagerDuty answered 400: Event object is invalid (the test receiver refuses this event)";
    check(
        deliveries.get(1)
            == Some(&(
                "failed".to_owned(),
                "gave_up".to_owned(),
                1,
                Some(reason.to_owned()),
            )),
        || format!("the 400 is given up with its reason: {deliveries:?}"),
    )?;
    setup.sweep()?;
    check(receiver.received().len() == 3, || {
        format!(
            "a given-up event is not sent again: {:?}",
            actions(&receiver.received())
        )
    })
}

/// A trigger that PagerDuty asked to send later (429) still arrives before the resolve that
/// ends its episode: while the trigger waits for its retry, the resolve waits behind it, and
/// it goes out only once the trigger is delivered.
#[test]
fn a_resolve_waits_for_its_retried_trigger() -> Result<()> {
    let receiver = Receiver::start_pagerduty()?;
    receiver.answer_with(429)?;
    let setup = Setup::new(&receiver, "pd_order")?;
    setup.run("fail")?;
    setup.settled(1)?;
    receiver.answer_with(202)?;
    setup.run("complete")?;
    // The sweep's own delivery run, answered only when it is done: the resolve is due but
    // must not be handed out while the trigger before it is pending.
    setup.sweep()?;
    let waiting = setup.deliveries()?;
    check(
        waiting
            == [
                (
                    "failed".to_owned(),
                    "pending".to_owned(),
                    1,
                    waiting[0].3.clone(),
                ),
                ("recovered".to_owned(), "pending".to_owned(), 0, None),
            ],
        || format!("the resolve waits behind the trigger's retry: {waiting:?}"),
    )?;
    setup.db.query(
        "UPDATE public.vantage_sync_webhook_deliveries SET next_attempt_at = now()
          WHERE webhook_id::text = $1 AND event = 'failed'",
        &[&setup.webhook_id],
    )?;
    // A delivery run hands out the trigger; the resolve, held back while the trigger is
    // pending, goes out on a later one. The `complete`'s own follow-up may be the run that
    // takes the trigger, so sweep until both have gone (or the patience runs out).
    let deadline = Instant::now() + PATIENCE;
    let deliveries = loop {
        setup.sweep()?;
        let deliveries = setup.deliveries()?;
        if deliveries.iter().all(|d| d.1 == "delivered") || Instant::now() > deadline {
            break deliveries;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    check(
        deliveries
            == [
                ("failed".to_owned(), "delivered".to_owned(), 2, None),
                ("recovered".to_owned(), "delivered".to_owned(), 1, None),
            ],
        || format!("both delivered, the trigger first: {deliveries:?}"),
    )?;
    let got: Vec<String> = actions(&receiver.received())
        .into_iter()
        .map(|(action, _, _)| action)
        .collect();
    check(got == ["trigger", "trigger", "resolve"], || {
        format!("PagerDuty got, in order: {got:?}")
    })
}

/// The routing key, like a webhook secret, is written through PostgREST and read by nobody:
/// `select=secret` and `select=*` are refused for the service role, the other columns read; a
/// bad key is refused with a sentence that names the problem, not the key.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario against the real stack, step by step: split, its order would be harder to follow"
)]
fn the_routing_key_is_written_never_read_and_a_bad_one_is_refused() -> Result<()> {
    let stack = Stack::load()?;
    let rest = Rest::new(&stack)?;
    let service = Credential::new(CredentialKind::ServiceRole, &stack)?;
    let db = Db::connect(&stack)?;
    let resource = flow_resource("pd_read");
    let made = rest.send(
        &Request::post(
            "/vantage_sync_webhooks",
            json!({ "kind": "pagerduty", "events": ["failed"], "resources": [resource],
                    "secret": ROUTING_KEY, "description": resource }),
        )
        .header("Prefer", "return=minimal"),
        &service,
    )?;
    check(made.status() == 201, || {
        format!("a PagerDuty subscription through PostgREST: {made}")
    })?;
    let outcome = (|| -> Result<()> {
        for select in ["secret", "*"] {
            let read = rest.send(
                &Request::get(format!(
                    "/vantage_sync_webhooks?select={select}&description=eq.{resource}"
                )),
                &service,
            )?;
            check(
                matches!(read.status(), 401 | 403) && !read.contains(ROUTING_KEY),
                || format!("select={select} must be refused: {read}"),
            )?;
        }
        let read = rest.send(
            &Request::get(format!(
                "/vantage_sync_webhooks?select=webhook_id,url,events,kind&description=eq.{resource}"
            )),
            &service,
        )?;
        let rows = read.json()?;
        check(
            read.status() == 200
                && rows[0]["kind"] == "pagerduty"
                && rows[0]["url"] == "https://events.pagerduty.com/v2/enqueue"
                && !read.contains(ROUTING_KEY),
            || format!("every other column reads, with the default URL: {read}"),
        )?;
        let representation = rest.send(
            &Request::post(
                "/vantage_sync_webhooks?select=webhook_id",
                json!({ "kind": "pagerduty", "events": ["failed"], "resources": [resource],
                        "secret": "ShouldNotBeWritten0123456789abcd", "description": resource }),
            )
            .header("Prefer", "return=representation"),
            &service,
        )?;
        check(
            representation.status() == 201 && !representation.contains("ShouldNotBeWritten"),
            || format!("an insert naming its columns answers without the key: {representation}"),
        )?;
        for (key, why) in [
            ("", "this one is empty"),
            ("0123456789ab", "this one has 12 characters"),
            (
                "0123456789abcdef-123456789abcdef",
                "this one has characters other than letters and digits",
            ),
        ] {
            let refused = rest.send(
                &Request::post(
                    "/vantage_sync_webhooks",
                    json!({ "kind": "pagerduty", "events": ["failed"], "secret": key,
                            "description": resource }),
                ),
                &service,
            )?;
            let body = refused.json().unwrap_or_default();
            let message = body["message"].as_str().unwrap_or_default();
            check(
                refused.status() == 400
                    && body["code"] == "22023"
                    && message.starts_with("a PagerDuty routing key (secret) must be")
                    && message.ends_with(why)
                    && (key.is_empty() || !refused.contains(key)),
                || format!("routing key {key:?} must be refused, naming why: {refused}"),
            )?;
        }
        Ok(())
    })();
    db.query(
        "DELETE FROM public.vantage_sync_webhooks WHERE description = $1",
        &[&resource],
    )?;
    outcome
}
