//! The truth table of health cases (`tests/fixtures/health_cases.json`) against the widget's
//! model, at the table's own `now`. The SQL view and its rule functions are checked against the
//! same file (`tests/tests/health_truth_table.rs`), so the widget and the database agree on
//! every case, boundaries included.
//!
//! Two paths are checked: the rules themselves (`classify_health`, `alerts_of`), and a card
//! built from a `vantage_sync_state` row as PostgREST returns it when the view is absent (the
//! thresholds then come as interval text, as the view would send them).
#![cfg(not(target_arch = "wasm32"))]
// A test that cannot read its fixture should stop right there, loudly.
#![allow(clippy::expect_used)]

use serde::Deserialize;
use serde_json::json;
use vantage_sync_widget::model::{
    Alert, Card, Facts, Health, SECOND, Status, SyncRow, Thresholds, Timestamp, alerts_of,
    classify_health,
};

#[derive(Debug, Deserialize)]
struct Table {
    now: String,
    defaults: Seconds,
    alert_order: Vec<String>,
    cases: Vec<Case>,
}

/// Thresholds in seconds, named as the fixture names them.
#[derive(Debug, Deserialize, Clone, Copy, Default)]
#[allow(clippy::struct_field_names)]
struct Seconds {
    stale_after_s: Option<i64>,
    stuck_after_s: Option<i64>,
    slow_after_s: Option<i64>,
    expected_interval_s: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    row: serde_json::Value,
    schedule: Option<Seconds>,
    expect: Expect,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Expect {
    health: String,
    alerts: Vec<String>,
}

fn table() -> Table {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/health_cases.json"
    );
    let text = std::fs::read_to_string(path).expect("the truth table is readable");
    serde_json::from_str(&text).expect("the truth table parses")
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("a valid timestamp")
}

/// The case's thresholds: its schedule's where given, else the table's defaults.
fn thresholds(case: &Case, defaults: Seconds) -> Seconds {
    let s = case.schedule.unwrap_or_default();
    Seconds {
        stale_after_s: s.stale_after_s.or(defaults.stale_after_s),
        stuck_after_s: s.stuck_after_s.or(defaults.stuck_after_s),
        slow_after_s: s.slow_after_s.or(defaults.slow_after_s),
        expected_interval_s: s.expected_interval_s.or(defaults.expected_interval_s),
    }
}

/// Seconds as PostgreSQL writes an interval (`IntervalStyle` `postgres`): `02:00:00`.
fn interval_text(seconds: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

fn expect_of(health: Health, alerts: &[Alert]) -> Expect {
    Expect {
        health: health.name().to_owned(),
        alerts: alerts.iter().map(|a| a.name().to_owned()).collect(),
    }
}

/// The case's row as the `vantage_sync_state` table returns it, with the view's threshold
/// columns when the case has a schedule.
fn state_row(case: &Case, t: Seconds) -> SyncRow {
    let mut row = case.row.clone();
    let object = row.as_object_mut().expect("a row is an object");
    let status = object.remove("status").expect("a row has a status");
    object.insert("last_sync_status".into(), status);
    object.insert("resource".into(), json!(case.name));
    if case.schedule.is_some() {
        let text = |s: Option<i64>| s.map(interval_text);
        object.insert("stale_after".into(), json!(text(t.stale_after_s)));
        object.insert("stuck_after".into(), json!(text(t.stuck_after_s)));
        object.insert("slow_after".into(), json!(text(t.slow_after_s)));
        object.insert(
            "expected_interval".into(),
            json!(text(t.expected_interval_s)),
        );
    }
    serde_json::from_value(row).expect("the row deserializes")
}

#[test]
fn the_model_agrees_with_every_case_of_the_truth_table() {
    let table = table();
    let now = at(&table.now);
    let mut mismatches = Vec::new();
    for case in &table.cases {
        let t = thresholds(case, table.defaults);
        let limits = Thresholds {
            stale_after: t.stale_after_s.expect("a stale limit") * SECOND,
            stuck_after: t.stuck_after_s.expect("a stuck limit") * SECOND,
            slow_after: t.slow_after_s.expect("a slow limit") * SECOND,
            expected_interval: t.expected_interval_s.map(|s| s * SECOND),
        };
        let row = state_row(case, t);
        let facts = Facts {
            status: row.status,
            last_sync_time: row.last_sync_time,
            started_at: row.started_at,
            created_at: row.created_at,
            duration_ms: row.duration_ms,
            consecutive_failures: row.consecutive_failures.unwrap_or(0),
        };
        let rules = expect_of(
            classify_health(&facts, &limits, now),
            &alerts_of(&facts, &limits, now),
        );
        if rules != case.expect {
            mismatches.push(format!(
                "{:?}: expected {:?}, the rules say {rules:?}",
                case.name, case.expect
            ));
        }
        let card = Card::from_row(row, now);
        let from_table = expect_of(card.health, &card.alerts);
        if from_table != case.expect {
            mismatches.push(format!(
                "{:?}: expected {:?}, a card from the table row says {from_table:?}",
                case.name, case.expect
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatch(es):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[test]
fn a_card_from_the_view_keeps_the_views_health_and_alerts() {
    // The view is the one place the rules run when it exists: the card shows what it says,
    // even if the browser's clock would judge otherwise.
    let table = table();
    let case = &table.cases[0];
    let mut row = state_row(case, table.defaults);
    row.health = Some(Health::Red);
    row.alerts = Some(vec!["stuck".into(), "a_future_alert".into()]);
    let card = Card::from_row(row, at(&table.now));
    assert_eq!(card.health, Health::Red);
    assert_eq!(card.alerts, [Alert::Stuck]);
}

#[test]
fn the_models_alert_names_and_order_are_the_tables() {
    let table = table();
    let names: Vec<String> = [
        Alert::Stuck,
        Alert::Stale,
        Alert::RepeatedFailures,
        Alert::Slow,
        Alert::MissedSchedule,
    ]
    .iter()
    .map(|a| a.name().to_owned())
    .collect();
    assert_eq!(names, table.alert_order);
    for case in &table.cases {
        assert!(
            matches!(
                case.row["status"].as_str(),
                Some("success" | "failed" | "running" | "never_run")
            ),
            "{}: a status the model knows",
            case.name
        );
    }
    let _ = Status::Other;
}
