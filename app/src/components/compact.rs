//! Compact mode: one resource, one line, for placing beside the page that shows its data.

use leptos::prelude::*;

use super::local_times_on;
use crate::browser::local_time_text;
use crate::model::{Card, Timestamp};

/// The spec's frontend line with its health icon and word:
/// "✔ Healthy · Last synced 2 hours ago (150 records in 3.2s)".
#[component]
pub fn CompactStatus(
    /// The resource's card.
    card: Card,
    /// The current time by the server's clock.
    #[prop(into)]
    now: Signal<Timestamp>,
) -> impl IntoView {
    let state = card.state();
    let times = local_times_on();
    let line_time = card.line_time();
    let title = move || line_time.filter(|_| times.get()).map(local_time_text);
    let datetime = line_time.map(Timestamp::to_rfc3339);
    let class = format!(
        "vss-compact vss-health-{} {}",
        card.health.name(),
        state.class()
    );
    let word = state.word();
    // A line that only repeats the word ("Never synced") is said once.
    let line = move || {
        let line = card.status_line(now.get());
        (line != word).then(|| {
            view! {
                " \u{b7} "
                <time datetime=datetime.clone() title=title>{line}</time>
            }
        })
    };
    view! {
        <span class=class>
            <span class="vss-icon" aria-hidden="true">{state.icon()}</span>
            " "
            <span class="vss-word">{word}</span>
            {line}
        </span>
    }
}
