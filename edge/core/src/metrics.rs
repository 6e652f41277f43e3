//! What `GET metrics` says: the per-resource numbers of `public.vantage_sync_metrics_by_resource` (computed
//! with the database's clock) and the edge's own request counters, as metric families. Pure:
//! rows and counts in, [`Family`] values out; `openmetrics` writes them.

use serde::Deserialize;

use crate::openmetrics::{Family, Kind};

/// The view the rows come from (migration `20261208100000`; `vantage_sync_metrics()` answers the
/// same rows but, setting its `search_path`, is not inlined, so a page read through it would
/// compute every row first).
pub const METRICS_VIEW: &str = "vantage_sync_metrics_by_resource";

/// One row of `public.vantage_sync_metrics_by_resource`. `None`: nothing to say (never succeeded, no
/// finished run, no watermark); that sample is left out rather than invented.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResourceMetrics {
    /// The resource's name.
    pub resource: String,
    /// `green`, `yellow` or `red`.
    pub health: Option<String>,
    /// 0 green, 1 yellow, 2 red.
    pub health_value: Option<f64>,
    /// Seconds since the last successful completion.
    pub last_success_age_seconds: Option<f64>,
    /// The last finished run's duration in seconds.
    pub last_duration_seconds: Option<f64>,
    /// Failures in a row since the last success.
    pub consecutive_failures: Option<f64>,
    /// Seconds the current run has been running; 0 when none runs.
    pub running_seconds: Option<f64>,
    /// `sync_watermark` as Unix seconds.
    pub watermark_seconds: Option<f64>,
}

/// The per-resource families, in the order they are written.
struct PerResource {
    name: &'static str,
    help: &'static str,
    unit: Option<&'static str>,
    value: fn(&ResourceMetrics) -> Option<f64>,
}

const PER_RESOURCE: [PerResource; 5] = [
    PerResource {
        name: "vantage_sync_last_success_age_seconds",
        help: "Seconds since the resource's last successful sync completed (no sample: never succeeded).",
        unit: Some("seconds"),
        value: |row| row.last_success_age_seconds,
    },
    PerResource {
        name: "vantage_sync_last_duration_seconds",
        help: "Duration of the resource's last finished run, in seconds.",
        unit: Some("seconds"),
        value: |row| row.last_duration_seconds,
    },
    PerResource {
        name: "vantage_sync_consecutive_failures",
        help: "Failed runs in a row since the resource's last success.",
        unit: None,
        value: |row| row.consecutive_failures,
    },
    PerResource {
        name: "vantage_sync_running_seconds",
        help: "Seconds the resource's current run has been running (0 when none runs).",
        unit: Some("seconds"),
        value: |row| row.running_seconds,
    },
    PerResource {
        name: "vantage_sync_watermark_timestamp_seconds",
        help: "The resource's sync_watermark (start of its last successful run) as Unix seconds.",
        unit: Some("seconds"),
        value: |row| row.watermark_seconds,
    },
];

/// Every family: health, the per-resource numbers, then the edge's request counters
/// (`(route, status, count)`, as [`crate::request_counts::RequestCounts::snapshot`] gives them).
pub fn families(rows: &[ResourceMetrics], requests: &[(&'static str, u16, u64)]) -> Vec<Family> {
    let mut health = Family::new(
        "vantage_sync_health",
        "Health of the resource: 0 green, 1 yellow, 2 red (label health names it).",
        None,
        Kind::Gauge,
    );
    for row in rows {
        if let (Some(name), Some(value)) = (&row.health, row.health_value) {
            health.push(
                vec![("resource", row.resource.clone()), ("health", name.clone())],
                value,
            );
        }
    }
    let mut families = vec![health];
    for spec in &PER_RESOURCE {
        let mut family = Family::new(spec.name, spec.help, spec.unit, Kind::Gauge);
        for row in rows {
            if let Some(value) = (spec.value)(row) {
                family.push(vec![("resource", row.resource.clone())], value);
            }
        }
        families.push(family);
    }
    let mut answered = Family::new(
        "vantage_sync_edge_requests",
        "Requests this edge process (or Deno isolate) answered, by route and status.",
        None,
        Kind::Counter,
    );
    for &(route, status, count) in requests {
        // Exact up to 2^53 requests.
        #[allow(clippy::cast_precision_loss)]
        let count = count as f64;
        answered.push(
            vec![("route", route.to_owned()), ("status", status.to_string())],
            count,
        );
    }
    families.push(answered);
    families
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openmetrics::{Format, render};

    fn row(resource: &str) -> ResourceMetrics {
        ResourceMetrics {
            resource: resource.into(),
            health: Some("green".into()),
            health_value: Some(0.0),
            last_success_age_seconds: Some(12.5),
            last_duration_seconds: Some(3.2),
            consecutive_failures: Some(0.0),
            running_seconds: Some(0.0),
            watermark_seconds: Some(1_764_684_000.25),
        }
    }

    #[test]
    fn unknown_values_are_left_out_not_invented() {
        let never = ResourceMetrics {
            resource: "never".into(),
            health: Some("yellow".into()),
            health_value: Some(1.0),
            last_success_age_seconds: None,
            last_duration_seconds: None,
            consecutive_failures: Some(0.0),
            running_seconds: Some(0.0),
            watermark_seconds: None,
        };
        let text = render(&families(&[never], &[]), Format::PrometheusText);
        assert!(text.contains("vantage_sync_health{resource=\"never\",health=\"yellow\"} 1\n"));
        assert!(text.contains("vantage_sync_consecutive_failures{resource=\"never\"} 0\n"));
        for absent in [
            "vantage_sync_last_success_age_seconds",
            "vantage_sync_last_duration_seconds",
            "vantage_sync_watermark_timestamp_seconds",
            "vantage_sync_edge_requests_total",
        ] {
            assert!(!text.contains(absent), "{absent} in {text}");
        }
    }

    #[test]
    fn every_family_is_written_whole_before_the_next() {
        let rows = [row("a"), row("b")];
        let text = render(
            &families(&rows, &[("health", 200, 3), ("unknown", 404, 1)]),
            Format::OpenMetrics,
        );
        let names: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split('{').next())
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        for name in &names {
            if seen.last() != Some(name) {
                assert!(!seen.contains(name), "{name} interleaved in {text}");
                seen.push(name);
            }
        }
        assert_eq!(seen.len(), 7, "{text}");
        assert!(
            text.contains("vantage_sync_edge_requests_total{route=\"unknown\",status=\"404\"} 1\n")
        );
        assert!(
            text.contains(
                "vantage_sync_watermark_timestamp_seconds{resource=\"b\"} 1764684000.25\n"
            )
        );
    }

    #[test]
    fn help_texts_need_no_escaping() {
        for family in families(&[row("a")], &[("start", 200, 1)]) {
            assert!(
                !family.help.contains(['\\', '"', '\n']),
                "{}: {}",
                family.name,
                family.help
            );
            if let Some(unit) = family.unit {
                assert!(
                    family.name.ends_with(&format!("_{unit}")),
                    "{}",
                    family.name
                );
            }
        }
    }
}
