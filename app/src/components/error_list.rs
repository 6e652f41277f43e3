//! The expandable list of a failure's errors.

use leptos::prelude::*;

use crate::browser::local_time_text;
use crate::model::{SyncError, Timestamp, count};

/// A button with `aria-expanded` that shows or hides each error's code, message and other
/// fields. Everything is placed as text: an ETL job's error message can hold anything.
#[component]
pub fn ErrorList(
    /// The errors of the last failed run.
    errors: Vec<SyncError>,
) -> impl IntoView {
    let (open, set_open) = signal(false);
    let label = count(i64::try_from(errors.len()).unwrap_or(i64::MAX), "error");
    let items = move || {
        errors
            .iter()
            .map(|e| {
                let fields = (!e.details.is_empty()).then(|| {
                    let rows = e
                        .details
                        .iter()
                        .map(|(name, value)| view! { <dt>{name.clone()}</dt><dd>{field_value(name, value)}</dd> })
                        .collect_view();
                    view! { <dl class="vss-error-fields">{rows}</dl> }
                });
                view! {
                    <li class="vss-error">
                        {e.code.clone().map(|code| view! { <code class="vss-error-code">{code}</code> })}
                        {e.message.clone().map(|m| view! { <span class="vss-error-message">{m}</span> })}
                        {fields}
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <div class="vss-errors">
            <button
                type="button"
                class="vss-expander"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=move |_| set_open.update(|o| *o = !*o)
            >
                {move || if open.get() { "Hide " } else { "Show " }}
                {label}
            </button>
            {move || open.get().then(|| view! { <ul class="vss-error-list">{items()}</ul> })}
        </div>
    }
}

/// A field's value as the card shows it: an ISO `timestamp` in the user's local time, with the
/// ISO text kept in `<time datetime>` (as the card's other times); anything else as text.
fn field_value(name: &str, value: &str) -> AnyView {
    match Timestamp::parse(value).filter(|_| name == "timestamp") {
        Some(t) => view! { <time datetime=value.to_owned()>{local_time_text(t)}</time> }.into_any(),
        None => value.to_owned().into_any(),
    }
}
