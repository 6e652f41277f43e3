//! The truth table of health cases (`tests/fixtures/health_cases.json`) against the database:
//! the view `vantage_sync_health` (at a pinned `now()`) and the rule functions it is built from
//! (at the table's own `now`). The widget's model is checked against the same file.

// A test that cannot read its fixture or reach the stack should stop right there, loudly.
#![allow(clippy::expect_used)]

use serde::Deserialize;
use vantage_sync_tests::spec::flow_resource;
use vantage_sync_tests::{Db, Stack};

#[derive(Debug, Deserialize)]
struct Table {
    now: String,
    defaults: Thresholds,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize, Clone, Copy, Default)]
struct Thresholds {
    #[serde(rename = "stale_after_s")]
    stale_after: Option<f64>,
    #[serde(rename = "stuck_after_s")]
    stuck_after: Option<f64>,
    #[serde(rename = "slow_after_s")]
    slow_after: Option<f64>,
    #[serde(rename = "expected_interval_s")]
    expected_interval: Option<f64>,
    #[serde(rename = "late_grace_s")]
    late_grace: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    row: Row,
    schedule: Option<Thresholds>,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
struct Row {
    status: String,
    last_sync_time: Option<String>,
    started_at: Option<String>,
    completed_at: Option<String>,
    created_at: String,
    duration_ms: Option<i32>,
    consecutive_failures: i32,
    /// A running row's last heartbeat (absent: none was sent).
    #[serde(default)]
    last_heartbeat_at: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Expect {
    health: String,
    alerts: Vec<String>,
}

fn table() -> Table {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/health_cases.json");
    let text = std::fs::read_to_string(path).expect("the truth table is readable");
    serde_json::from_str(&text).expect("the truth table parses")
}

impl Thresholds {
    /// The case's thresholds: its schedule's where given, else the table's defaults.
    fn over(self, defaults: Self) -> Self {
        Self {
            stale_after: self.stale_after.or(defaults.stale_after),
            stuck_after: self.stuck_after.or(defaults.stuck_after),
            slow_after: self.slow_after.or(defaults.slow_after),
            expected_interval: self.expected_interval.or(defaults.expected_interval),
            late_grace: self.late_grace.or(defaults.late_grace),
        }
    }
}

/// The case's schedule row: its thresholds where it gives them, the database's defaults
/// otherwise; `late_grace` the case's or the fixture's default (the column's own default,
/// checked by `the_fixtures_default_late_grace_is_the_columns`).
fn insert_schedule(db: &Db, resource: &str, effective: Thresholds, s: Thresholds, name: &str) {
    db.query(
        "INSERT INTO public.vantage_sync_schedules (resource, expected_interval, stale_after, stuck_after, slow_after, late_grace)
         SELECT $1, make_interval(secs => $2::float8),
                coalesce(make_interval(secs => $3::float8), d.stale_after),
                coalesce(make_interval(secs => $4::float8), d.stuck_after),
                coalesce(make_interval(secs => $5::float8), d.slow_after),
                make_interval(secs => $6::float8)
           FROM public.vantage_sync_default_schedule() AS d",
        &[
            &resource,
            &s.expected_interval,
            &s.stale_after,
            &s.stuck_after,
            &s.slow_after,
            &effective.late_grace,
        ],
    )
    .unwrap_or_else(|e| panic!("case {name:?}: schedule insert failed: {e:?}"));
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one table of cases and the loop that checks them, read top to bottom"
)]
fn the_view_agrees_with_every_case_of_the_truth_table() {
    let table = table();
    let db = Db::connect(&Stack::load().expect("stack")).expect("db");
    let prefix = flow_resource("health");
    db.query("BEGIN", &[]).expect("begin");

    // Every timestamp moves with the clock: `now() - (table now - t)`. Inside one transaction
    // now() stands still, so the boundary cases stay exactly on their boundaries.
    for (i, case) in table.cases.iter().enumerate() {
        let resource = format!("{prefix}_{i:02}");
        let r = &case.row;
        db.query(
            "INSERT INTO public.vantage_sync_state (resource, last_sync_status, last_sync_time,
                 started_at, completed_at, created_at, consecutive_failures, current_run_id,
                 last_heartbeat_at)
             VALUES ($1, $2,
                 now() - ($3::text::timestamptz - $4::text::timestamptz),
                 now() - ($3::text::timestamptz - $5::text::timestamptz),
                 now() - ($3::text::timestamptz - $6::text::timestamptz),
                 now() - ($3::text::timestamptz - $7::text::timestamptz),
                 $8, CASE WHEN $2 = 'running' THEN gen_random_uuid() END,
                 now() - ($3::text::timestamptz - $9::text::timestamptz))",
            &[
                &resource,
                &r.status,
                &table.now,
                &r.last_sync_time,
                &r.started_at,
                &r.completed_at,
                &r.created_at,
                &r.consecutive_failures,
                &r.last_heartbeat_at,
            ],
        )
        .unwrap_or_else(|e| panic!("case {:?}: insert failed: {e:?}", case.name));
        if let Some(schedule) = case.schedule {
            insert_schedule(
                &db,
                &resource,
                schedule.over(table.defaults),
                schedule,
                &case.name,
            );
        }
    }

    let rows = db
        .query(
            "SELECT resource, health, alerts, duration_ms FROM public.vantage_sync_health
              WHERE resource LIKE $1 || '\\_%' ORDER BY sort_key",
            &[&prefix],
        )
        .expect("view");
    db.query("ROLLBACK", &[]).expect("rollback");

    assert_eq!(rows.len(), table.cases.len(), "one view row per case");
    let mut mismatches = Vec::new();
    for row in &rows {
        let resource: String = row.get(0);
        let index: usize = resource[prefix.len() + 1..].parse().expect("case index");
        let case = &table.cases[index];
        let got = Expect {
            health: row.get(1),
            alerts: row.get(2),
        };
        if got != case.expect {
            mismatches.push(format!(
                "{:?}: expected {:?}, the view says {:?}",
                case.name, case.expect, got
            ));
        }
        let duration: Option<i32> = row.get(3);
        if duration != case.row.duration_ms {
            mismatches.push(format!(
                "{:?}: duration_ms {:?} in the table, {duration:?} derived",
                case.name, case.row.duration_ms
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} case(s) disagree:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );

    // Sorted by sort_key: every red before every yellow before every green, names ascending.
    let order: Vec<(u8, String)> = rows
        .iter()
        .map(|row| {
            let health: String = row.get(1);
            let rank = match health.as_str() {
                "red" => 1,
                "yellow" => 2,
                _ => 3,
            };
            (rank, row.get(0))
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(
        order, sorted,
        "sort_key orders red, yellow, green, then resource"
    );
}

#[test]
fn the_rule_functions_agree_with_every_case_at_the_tables_own_clock() {
    let table = table();
    let db = Db::connect(&Stack::load().expect("stack")).expect("db");
    let mut mismatches = Vec::new();
    for case in &table.cases {
        let t = case.schedule.unwrap_or_default().over(table.defaults);
        let r = &case.row;
        let row = db
            .query_one(
                "WITH c AS (SELECT $1::text AS status, $2::text::timestamptz AS last_sync_time,
                                   $3::text::timestamptz AS started_at, $4::text::timestamptz AS created_at,
                                   $5::int AS duration_ms, $6::int AS failures,
                                   make_interval(secs => $7::float8) AS stale_after,
                                   make_interval(secs => $8::float8) AS stuck_after,
                                   make_interval(secs => $9::float8) AS slow_after,
                                   make_interval(secs => $10::float8) AS expected_interval,
                                   $11::text::timestamptz AS now,
                                   make_interval(secs => $12::float8) AS late_grace,
                                   $13::text::timestamptz AS last_heartbeat_at)
                 SELECT public.vantage_sync_health_name(public.vantage_sync_health_rank_of(
                            status, last_sync_time, started_at, stale_after, stuck_after, now,
                            created_at, expected_interval, late_grace, last_heartbeat_at)),
                        public.vantage_sync_alerts_of(status, last_sync_time, started_at, created_at,
                            duration_ms, failures, stale_after, stuck_after, slow_after, expected_interval, now,
                            late_grace, last_heartbeat_at)
                   FROM c",
                &[
                    &r.status,
                    &r.last_sync_time,
                    &r.started_at,
                    &r.created_at,
                    &r.duration_ms,
                    &r.consecutive_failures,
                    &t.stale_after,
                    &t.stuck_after,
                    &t.slow_after,
                    &t.expected_interval,
                    &table.now,
                    &t.late_grace,
                    &r.last_heartbeat_at,
                ],
            )
            .unwrap_or_else(|e| panic!("case {:?}: {e:?}", case.name));
        let got = Expect {
            health: row.get(0),
            alerts: row.get(1),
        };
        if got != case.expect {
            mismatches.push(format!(
                "{:?}: expected {:?}, the functions say {:?}",
                case.name, case.expect, got
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} case(s) disagree:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn the_truth_table_covers_every_health_every_alert_and_the_boundaries() {
    let table = table();
    for health in ["red", "yellow", "green"] {
        assert!(
            table.cases.iter().any(|c| c.expect.health == health),
            "no {health} case"
        );
    }
    for alert in [
        "stuck",
        "stale",
        "repeated_failures",
        "slow",
        "missed_schedule",
        "late",
    ] {
        assert!(
            table
                .cases
                .iter()
                .any(|c| c.expect.alerts.iter().any(|a| a == alert)),
            "no {alert} case"
        );
    }
    for heartbeat in [
        "heard from 20 seconds ago: not stuck",
        "last heartbeat 31 minutes ago: stuck",
    ] {
        assert!(
            table
                .cases
                .iter()
                .any(|c| c.row.last_heartbeat_at.is_some() && c.name.contains(heartbeat)),
            "no heartbeat case {heartbeat:?}"
        );
    }
    for boundary in [
        "exactly 30 minutes",
        "last heartbeat exactly 30 minutes",
        "exactly 24 hours",
        "exactly 5 minutes",
        "exactly interval + grace",
    ] {
        assert!(
            table.cases.iter().any(|c| c.name.contains(boundary)),
            "no case at {boundary}"
        );
    }
}

#[test]
fn the_fixtures_default_late_grace_is_the_columns() {
    let table = table();
    let db = Db::connect(&Stack::load().expect("stack")).expect("db");
    db.query("BEGIN", &[]).expect("begin");
    let row = db
        .query_one(
            "INSERT INTO public.vantage_sync_schedules (resource) VALUES ($1)
             RETURNING date_part('epoch', late_grace)",
            &[&flow_resource("late_grace_default")],
        )
        .expect("a schedule with the default late_grace");
    db.query("ROLLBACK", &[]).expect("rollback");
    let column_default: f64 = row.get(0);
    assert_eq!(
        Some(column_default),
        table.defaults.late_grace,
        "the truth table's late_grace_s default is vantage_sync_schedules.late_grace's default"
    );
}
