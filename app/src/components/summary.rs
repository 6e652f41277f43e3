//! The summary bar: counts per health as filter buttons, and a name filter.

use leptos::prelude::*;

use crate::model::{Counts, Health};

/// One button per health with its count (pressing the active one shows all again), an "All"
/// button, and a search box that filters by resource name.
#[component]
pub fn SummaryBar(
    /// Cards per health.
    #[prop(into)]
    counts: Signal<Counts>,
    /// The health filter (`None`: all).
    filter: RwSignal<Option<Health>>,
    /// The name filter (substring, case-insensitive).
    name: RwSignal<String>,
) -> impl IntoView {
    let pressed = move |wanted: Option<Health>| {
        move || {
            if filter.get() == wanted {
                "true"
            } else {
                "false"
            }
        }
    };
    let buttons = Health::ALL
        .into_iter()
        .map(|health| {
            view! {
                <button
                    type="button"
                    class=format!("vss-filter vss-health-{}", health.name())
                    aria-pressed=pressed(Some(health))
                    on:click=move |_| {
                        filter.update(|f| *f = if *f == Some(health) { None } else { Some(health) });
                    }
                >
                    {health.label()}
                    " "
                    <span class="vss-count">{move || counts.get().get(health)}</span>
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
