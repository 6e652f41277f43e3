//! A card's run history: a button with `aria-expanded` that loads the last 20 runs the first
//! time it opens, shown as bars (oldest left), each as tall as its duration and coloured by
//! status, with its values in words on hover and keyboard focus.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::actions::CardActions;
use crate::browser::local_time_text;
use crate::model::RunSummary;

/// What the chart shows: not loaded yet, loaded, or why not.
type Loaded = Option<Result<Vec<RunSummary>, String>>;

/// The history of `resource`; nothing without a [`CardActions`] context.
#[component]
pub fn RunHistory(
    /// The resource whose runs to show.
    resource: String,
) -> impl IntoView {
    let Some(source) = use_context::<CardActions>() else {
        return ().into_any();
    };
    let open = RwSignal::new(false);
    // Loaded once, on the first opening, into a signal with `spawn_local`, not a Leptos
    // `LocalResource`: measured in this bundle, one costs 8.0 KB of brotli (its async-derived
    // machinery; ARCHITECTURE.md, issue 17).
    let runs = RwSignal::new(None::<Result<Vec<RunSummary>, String>>);
    let toggle = move |_| {
        let opening = !open.get_untracked();
        open.set(opening);
        if opening && runs.with_untracked(Option::is_none) {
            let (source, resource) = (source.clone(), resource.clone());
            spawn_local(async move {
                let loaded = source.load_runs(&resource).await;
                runs.set(Some(loaded));
            });
        }
    };
    view! {
        <div class="vss-history">
            <button
                type="button"
                class="vss-expander"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                on:click=toggle
            >
                {move || if open.get() { "Hide history" } else { "Show history" }}
            </button>
            {move || open.get().then(|| chart(runs.get()))}
        </div>
    }
    .into_any()
}

fn chart(loaded: Loaded) -> AnyView {
    match loaded {
        None => view! { <p class="vss-run-detail">"Loading runs\u{2026}"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="vss-run-detail">{e}</p> }.into_any(),
        Some(Ok(runs)) if runs.is_empty() => {
            view! { <p class="vss-run-detail">"No runs yet."</p> }.into_any()
        }
        Some(Ok(runs)) => bars(&runs).into_any(),
    }
}

fn bars(runs: &[RunSummary]) -> impl IntoView {
    let detail = RwSignal::new(String::new());
    let items = runs
        .iter()
        .rev()
        .map(|run| {
            let text = format!(
                "{} \u{b7} started {}",
                run.describe(),
                local_time_text(run.started_at)
            );
            let show = {
                let text = text.clone();
                move || detail.set(text.clone())
            };
            let show_on_hover = show.clone();
            view! {
                <li
                    class=format!("vss-run {}", run.class())
                    style=format!("height: {}%", run.bar_percent(runs))
                    tabindex="0"
                    title=text.clone()
                    aria-label=text
                    on:focus=move |_| show()
                    on:mouseenter=move |_| show_on_hover()
                ></li>
            }
        })
        .collect_view();
    // Bars have no axis: say what a full-height bar stands for.
    let scale =
        RunSummary::scale_text(runs).map(|text| view! { <p class="vss-run-scale">{text}</p> });
    view! {
        <ol class="vss-runs" aria-label="Last runs, oldest first">{items}</ol>
        {scale}
        <p class="vss-run-detail">{move || detail.get()}</p>
    }
}
