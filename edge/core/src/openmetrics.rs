//! Metric families written as text, pure: the OpenMetrics 1.0 text format that Prometheus
//! asks for, or the Prometheus text format 0.0.4 for every other client (`curl`, `promtool`).
//!
//! The two differ only in their frame: OpenMetrics has `# UNIT` lines, names a counter's family
//! without its `_total` suffix and ends with `# EOF`; 0.0.4 has neither and names the counter
//! by its sample. Families are written one after the other, never interleaved; label values
//! are escaped (`\\`, `\"`, `\n`) in both.

use std::fmt::Write;

/// The text format of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text (what Prometheus asks for).
    OpenMetrics,
    /// The Prometheus text format 0.0.4 (what `promtool check metrics` parses).
    PrometheusText,
}

impl Format {
    /// OpenMetrics when the `Accept` header names `application/openmetrics-text` (Prometheus
    /// always does), else the 0.0.4 text format that every Prometheus-compatible tool reads.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let wants_openmetrics = accept.is_some_and(|accept| {
            accept.split(',').any(|range| {
                range
                    .split(';')
                    .next()
                    .is_some_and(|media| media.trim().eq_ignore_ascii_case(OPENMETRICS_MEDIA))
            })
        });
        if wants_openmetrics {
            Self::OpenMetrics
        } else {
            Self::PrometheusText
        }
    }

    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Self::PrometheusText => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

const OPENMETRICS_MEDIA: &str = "application/openmetrics-text";

/// What a family's values mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A value that goes up and down.
    Gauge,
    /// A count that only goes up (until the process restarts).
    Counter,
}

/// One metric family: its metadata and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family's name, without `_total` for a counter; ends with `_<unit>` when it has one.
    pub name: &'static str,
    /// One sentence, plain ASCII without backslashes, quotes or line breaks.
    pub help: &'static str,
    /// The unit (`seconds`), if any.
    pub unit: Option<&'static str>,
    /// Gauge or counter.
    pub kind: Kind,
    /// Its samples; a family without any is left out.
    pub samples: Vec<Sample>,
}

/// One sample: label pairs and a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Label names (fixed by this crate) and values (any text; escaped when written).
    pub labels: Vec<(&'static str, String)>,
    /// The value; a sample whose value is not finite is left out.
    pub value: f64,
}

impl Family {
    /// A family without samples yet.
    pub fn new(
        name: &'static str,
        help: &'static str,
        unit: Option<&'static str>,
        kind: Kind,
    ) -> Self {
        Self {
            name,
            help,
            unit,
            kind,
            samples: Vec::new(),
        }
    }

    /// Adds a sample.
    pub fn push(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.push(Sample { labels, value });
    }
}

/// `families` as text in `format`, each family's metadata before its samples.
pub fn render(families: &[Family], format: Format) -> String {
    let mut out = String::new();
    for family in families {
        let samples: Vec<&Sample> = family
            .samples
            .iter()
            .filter(|s| s.value.is_finite())
            .collect();
        if samples.is_empty() {
            continue;
        }
        let sample_name = match family.kind {
            Kind::Gauge => family.name.to_owned(),
            Kind::Counter => format!("{}_total", family.name),
        };
        let kind = match family.kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        // Writing to a String cannot fail.
        match format {
            Format::OpenMetrics => {
                let _ = writeln!(out, "# TYPE {} {kind}", family.name);
                if let Some(unit) = family.unit {
                    let _ = writeln!(out, "# UNIT {} {unit}", family.name);
                }
                let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
            }
            Format::PrometheusText => {
                let _ = writeln!(out, "# HELP {sample_name} {}", escape_help(family.help));
                let _ = writeln!(out, "# TYPE {sample_name} {kind}");
            }
        }
        for sample in samples {
            out.push_str(&sample_name);
            if !sample.labels.is_empty() {
                out.push('{');
                for (index, (name, value)) in sample.labels.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    let _ = write!(out, "{name}=\"{}\"", escape_label(value));
                }
                out.push('}');
            }
            let _ = writeln!(out, " {}", sample.value);
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// A label value as both formats quote it.
fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

/// Help text as both formats read it (a backslash and a line break escaped).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Vec<Family> {
        let mut health = Family::new(
            "vantage_sync_health",
            "Health of each resource: 0 green, 1 yellow, 2 red.",
            None,
            Kind::Gauge,
        );
        health.push(
            vec![
                ("resource", "we\"ird\\name\nhere".into()),
                ("health", "red".into()),
            ],
            2.0,
        );
        health.push(vec![("resource", "nan".into())], f64::NAN);
        let mut age = Family::new(
            "vantage_sync_last_duration_seconds",
            "Duration of the last run.",
            Some("seconds"),
            Kind::Gauge,
        );
        age.push(vec![("resource", "accounts".into())], 3.25);
        let empty = Family::new("vantage_sync_empty", "Nothing.", None, Kind::Gauge);
        let mut requests = Family::new(
            "vantage_sync_edge_requests",
            "Requests answered.",
            None,
            Kind::Counter,
        );
        requests.push(
            vec![("route", "health".into()), ("status", "200".into())],
            7.0,
        );
        vec![health, age, empty, requests]
    }

    #[test]
    fn openmetrics_has_units_counter_families_and_eof() {
        assert_eq!(
            render(&example(), Format::OpenMetrics),
            "# TYPE vantage_sync_health gauge\n\
             # HELP vantage_sync_health Health of each resource: 0 green, 1 yellow, 2 red.\n\
             vantage_sync_health{resource=\"we\\\"ird\\\\name\\nhere\",health=\"red\"} 2\n\
             # TYPE vantage_sync_last_duration_seconds gauge\n\
             # UNIT vantage_sync_last_duration_seconds seconds\n\
             # HELP vantage_sync_last_duration_seconds Duration of the last run.\n\
             vantage_sync_last_duration_seconds{resource=\"accounts\"} 3.25\n\
             # TYPE vantage_sync_edge_requests counter\n\
             # HELP vantage_sync_edge_requests Requests answered.\n\
             vantage_sync_edge_requests_total{route=\"health\",status=\"200\"} 7\n\
             # EOF\n"
        );
    }

    #[test]
    fn prometheus_text_names_counters_by_their_samples_and_has_no_frame() {
        assert_eq!(
            render(&example(), Format::PrometheusText),
            "# HELP vantage_sync_health Health of each resource: 0 green, 1 yellow, 2 red.\n\
             # TYPE vantage_sync_health gauge\n\
             vantage_sync_health{resource=\"we\\\"ird\\\\name\\nhere\",health=\"red\"} 2\n\
             # HELP vantage_sync_last_duration_seconds Duration of the last run.\n\
             # TYPE vantage_sync_last_duration_seconds gauge\n\
             vantage_sync_last_duration_seconds{resource=\"accounts\"} 3.25\n\
             # HELP vantage_sync_edge_requests_total Requests answered.\n\
             # TYPE vantage_sync_edge_requests_total counter\n\
             vantage_sync_edge_requests_total{route=\"health\",status=\"200\"} 7\n"
        );
    }

    #[test]
    fn nothing_to_say_is_an_empty_document() {
        assert_eq!(render(&[], Format::OpenMetrics), "# EOF\n");
        assert_eq!(render(&[], Format::PrometheusText), "");
    }

    #[test]
    fn large_and_small_values_are_plain_decimals() {
        let mut family = Family::new("x_seconds", "X.", Some("seconds"), Kind::Gauge);
        family.push(Vec::new(), 1_764_684_000.5);
        family.push(Vec::new(), 0.001);
        let text = render(&[family], Format::PrometheusText);
        assert!(
            text.ends_with("x_seconds 1764684000.5\nx_seconds 0.001\n"),
            "{text}"
        );
    }

    #[test]
    fn openmetrics_is_chosen_only_when_asked_for() {
        // What Prometheus 2.42 sends.
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(
            Format::negotiate(Some(
                "text/plain, Application/OpenMetrics-Text; version=1.0.0"
            )),
            Format::OpenMetrics
        );
        for other in [
            None,
            Some("*/*"),
            Some("text/plain"),
            Some("application/json"),
        ] {
            assert_eq!(
                Format::negotiate(other),
                Format::PrometheusText,
                "{other:?}"
            );
        }
        assert_eq!(
            Format::OpenMetrics.content_type(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
    }
}
