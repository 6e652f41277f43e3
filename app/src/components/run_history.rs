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
    let Some(actions) = use_context::<CardActions>() else {
        return ().into_any();
    };
    let open = RwSignal::new(false);
    // Set on the first opening and never unset: the runs load once, and stay for the next.
    let opened = RwSignal::new(false);
    let toggle = move |_| {
        open.update(|o| *o = !*o);
        opened.set(true);
    };
    let runs = move || {
        let (actions, resource) = (actions.clone(), resource.clone());
        opened
            .get()
            .then(|| view! { <RunChart actions resource open/> })
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
            {runs}
        </div>
    }
    .into_any()
}

/// The chart while `open`, from the runs it loads when it is made.
#[component]
fn RunChart(actions: CardActions, resource: String, open: RwSignal<bool>) -> impl IntoView {
    // A signal filled by `spawn_local` rather than a Leptos `LocalResource`, whose async
    // machinery costs the bundle 8.0 KB of brotli (docs/performance.md, "Size levers").
    let runs = RwSignal::new(Loaded::None);
    spawn_local(async move {
        let loaded = actions.load_runs(&resource).await;
        // Disposed when the card is gone before the runs arrive: then they are dropped.
        let _ = runs.try_set(Some(loaded));
    });
    move || open.get().then(|| chart(runs.get()))
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
