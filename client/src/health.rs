//! `vantage-sync health`: the function's health answer as a table, and the exit code a
//! Nagios-style check reads (0 all green, 1 any yellow, 2 any red, 3 nothing to report). Pure.

use serde_json::Value;

/// Every resource green.
pub const ALL_GREEN: u8 = 0;
/// Some resource yellow, none red.
pub const SOME_YELLOW: u8 = 1;
/// Some resource red.
pub const SOME_RED: u8 = 2;
/// No resource (or none of that name): nothing to judge.
pub const NONE_FOUND: u8 = 3;

/// The table and the exit code for a `GET health` answer.
pub fn render(answer: &Value) -> (String, u8) {
    let rows = answer
        .get("resources")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if rows.is_empty() {
        return ("no resources\n".to_owned(), NONE_FOUND);
    }
    let text = |row: &Value, name: &str| match row.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "-".to_owned(),
        Some(other) => other.to_string(),
    };
    let header = [
        "RESOURCE",
        "HEALTH",
        "STATUS",
        "LAST SYNC",
        "RECORDS",
        "ALERTS",
    ];
    let mut lines: Vec<[String; 6]> = vec![header.map(str::to_owned)];
    let mut worst = ALL_GREEN;
    for row in rows {
        let health = text(row, "health");
        worst = worst.max(match health.as_str() {
            "green" => ALL_GREEN,
            "yellow" => SOME_YELLOW,
            _ => SOME_RED,
        });
        let alerts = row
            .get("alerts")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| "-".into());
        lines.push([
            text(row, "resource"),
            health,
            text(row, "last_sync_status"),
            text(row, "last_sync_time"),
            records(row),
            alerts,
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    (out, worst)
}

/// The records of the last run, or of the running one so far (its last heartbeat's); a
/// success that reported no counts says so rather than 0.
fn records(row: &Value) -> String {
    let running = row.get("last_sync_status").and_then(Value::as_str) == Some("running");
    if let (true, Some(so_far)) = (running, row.get("records_so_far").and_then(Value::as_u64)) {
        return format!("{so_far} so far");
    }
    if row.get("counts_reported") == Some(&Value::Bool(false)) {
        return "not reported".to_owned();
    }
    match row.get("records_synced") {
        Some(Value::Number(n)) => n.to_string(),
        _ => "-".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(resource: &str, health: &str) -> Value {
        json!({"resource": resource, "health": health, "last_sync_status": "success",
               "last_sync_time": "2026-12-07T10:00:00+00:00", "records_synced": 150, "alerts": []})
    }

    #[test]
    fn the_worst_health_is_the_exit_code() {
        let cases = [
            (vec![row("a", "green")], ALL_GREEN),
            (vec![row("a", "green"), row("b", "yellow")], SOME_YELLOW),
            (vec![row("a", "red"), row("b", "yellow")], SOME_RED),
            (vec![], NONE_FOUND),
        ];
        for (rows, code) in cases {
            assert_eq!(render(&json!({ "resources": rows })).1, code);
        }
    }

    #[test]
    fn the_table_has_a_line_per_resource() {
        let mut stuck = row("orders", "red");
        stuck["alerts"] = json!(["stuck"]);
        let mut running = row("sales", "green");
        running["last_sync_status"] = json!("running");
        running["records_so_far"] = json!(45200);
        let (table, _) =
            render(&json!({ "resources": [stuck, row("accounts", "green"), running] }));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[3].contains("45200 so far"), "{table}");
        let mut uncounted = row("accounts", "green");
        uncounted["counts_reported"] = json!(false);
        let (table, _) = render(&json!({ "resources": [uncounted] }));
        assert!(table.contains("not reported"), "{table}");
        assert!(lines[0].starts_with("RESOURCE  HEALTH"), "{table}");
        assert!(
            lines[1].starts_with("orders    red") && lines[1].ends_with("stuck"),
            "{table}"
        );
    }
}
