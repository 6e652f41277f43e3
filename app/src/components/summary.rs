//! The summary bar: counts per health, and of late resources, as filter buttons, and a name
//! filter.

use leptos::prelude::*;

use crate::model::{Counts, Filter};

/// One button per health and one for late resources, each with its count (pressing the active
/// one shows all again), an "All" button, and a search box that filters by resource name.
#[component]
pub fn SummaryBar(
    /// Cards per health, and late ones.
    #[prop(into)]
    counts: Signal<Counts>,
    /// The health or late filter (`None`: all).
    filter: RwSignal<Option<Filter>>,
    /// The name filter (substring, case-insensitive).
    name: RwSignal<String>,
) -> impl IntoView {
    let pressed = move |wanted: Option<Filter>| {
        move || {
            if filter.get() == wanted {
                "true"
            } else {
                "false"
            }
        }
    };
    let buttons = Filter::ALL
        .into_iter()
        .map(|wanted| {
            view! {
                <button
                    type="button"
                    class=format!("vss-filter {}", wanted.class())
                    aria-pressed=pressed(Some(wanted))
                    on:click=move |_| {
                        filter.update(|f| *f = if *f == Some(wanted) { None } else { Some(wanted) });
                    }
                >
                    {wanted.label()}
                    " "
                    <span class="vss-count">{move || counts.get().get(wanted)}</span>
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="vss-summary">
            <div class="vss-filters" role="group" aria-label="Show resources by health">
                <button
                    type="button"
                    class="vss-filter vss-filter-all"
                    aria-pressed=pressed(None)
                    on:click=move |_| filter.set(None)
                >
                    "All "
                    <span class="vss-count">{move || counts.get().total()}</span>
                </button>
                {buttons}
            </div>
            <input
                type="search"
                class="vss-name-filter"
                placeholder="Filter by name"
                aria-label="Filter resources by name"
                prop:value=move || name.get()
                on:input=move |ev| name.set(event_target_value(&ev))
            />
        </div>
    }
}
