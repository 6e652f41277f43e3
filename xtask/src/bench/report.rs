//! What `cargo xtask bench widget` prints about its timings: per condition, each page's median
//! and spread, when its data and its code had arrived, and the ratios between pages two ways
//! (the median of the per-round pair ratios, and the ratio of the medians) with the issue's
//! goals beside them.

use super::first_cards::PageTimes;

/// A ratio between two pages and its goal under a condition.
struct Comparison {
    /// Which pages, as indices into the condition's pages, numerator first.
    pages: (usize, usize),
    /// The goal's text, where there is one under this condition.
    goal: Option<&'static str>,
}

/// The first-card times of one condition: milliseconds per load, per page, rounds aligned.
#[derive(Debug)]
pub struct Condition<'a> {
    /// Its name, as printed.
    pub title: &'static str,
    /// Whether the widget/floor goal applies (loopback and repeat, not the mobile network).
    pub floor_goal: bool,
    /// The widget/React goal under this condition.
    pub react_goal: &'static str,
    /// The pages' names, in the order of `times`.
    pub pages: &'a [&'static str],
    /// Per page, its figures per load.
    pub times: &'a [PageTimes],
}

/// Prints one condition's figures.
pub fn print_condition(condition: &Condition<'_>) {
    let ms: Vec<&[f64]> = condition.times.iter().map(|t| t.ms.as_slice()).collect();
    let loads = ms.first().map_or(0, |m| m.len());
    println!(
        "\n  {} — navigation to first card, {loads} loads per page",
        condition.title
    );
    println!("    page        median   fastest–slowest   data arrived   code arrived (medians)");
    let arrived = |values: &[f64]| {
        if values.is_empty() {
            "—".to_owned()
        } else {
            format!("{:.0} ms", median(values))
        }
    };
    for (name, page) in condition.pages.iter().zip(condition.times) {
        println!(
            "    {name:<8} {:>7.1} ms   {:<17} {:>12}   {:>12}",
            median(&page.ms),
            spread(&page.ms),
            arrived(&page.data_ms),
            arrived(&page.code_ms)
        );
    }
    let [widget, floor, react] = [0, 1, 2];
    let comparisons = [
        Comparison {
            pages: (widget, floor),
            goal: condition.floor_goal.then_some("goal ≤ 1.50"),
        },
        Comparison {
            pages: (widget, react),
            goal: Some(condition.react_goal),
        },
        Comparison {
            pages: (react, floor),
            goal: None,
        },
    ];
    println!("    ratio             by pairs  of medians");
    for Comparison {
        pages: (a, b),
        goal,
    } in comparisons
    {
        let (Some(&over), Some(&under)) = (ms.get(a), ms.get(b)) else {
            continue;
        };
        let pairs: Vec<f64> = over.iter().zip(under).map(|(x, y)| x / y).collect();
        println!(
            "    {:<16} {:>9.2} {:>11.2}   {}",
            format!("{}/{}", condition.pages[a], condition.pages[b]),
            median(&pairs),
            median(over) / median(under),
            goal.unwrap_or("")
        );
    }
    let config_ms = condition.times.first().map_or(&[][..], |w| &w.config_ms);
    if !config_ms.is_empty() {
        println!(
            "    the widget's config.json round trip: median {:.1} ms ({}), before its first read",
            median(config_ms),
            spread(config_ms)
        );
    }
}

/// `fastest–slowest ms` of `values`.
fn spread(values: &[f64]) -> String {
    let fastest = values.iter().copied().fold(f64::INFINITY, f64::min);
    let slowest = values.iter().copied().fold(0.0, f64::max);
    format!("{fastest:.0}–{slowest:.0} ms")
}

/// The median of `values` (the mean of the middle two for an even count; 0 for none).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_odd_and_even_counts() {
        assert!((median(&[3.0, 1.0, 2.0]) - 2.0).abs() < f64::EPSILON);
        assert!((median(&[4.0, 1.0, 2.0, 3.0]) - 2.5).abs() < f64::EPSILON);
        assert!(median(&[]).abs() < f64::EPSILON);
    }

    #[test]
    fn the_spread_is_fastest_to_slowest() {
        assert_eq!(spread(&[120.4, 80.6, 99.0]), "81–120 ms");
    }
}
