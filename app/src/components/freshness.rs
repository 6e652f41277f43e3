//! "Updated 12 s ago" and the refresh button.

use leptos::prelude::*;

use crate::model::{Timestamp, updated_text};

/// How old the shown data is, ticking with `now`, and a button to refresh it.
#[component]
pub fn Freshness(
    /// When the shown data arrived (browser clock); `None` before the first answer.
    #[prop(into)]
    updated_at: Signal<Option<Timestamp>>,
    /// The browser's clock.
    #[prop(into)]
    now: Signal<Timestamp>,
    /// Whether a read is under way.
    #[prop(into)]
    loading: Signal<bool>,
    /// Asks for a read now.
    on_refresh: Callback<()>,
) -> impl IntoView {
    let text = move || match updated_at.get() {
        Some(t) => updated_text(now.get().since(t)),
        None => "Loading\u{2026}".to_owned(),
    };
    view! {
        <div class="vss-freshness">
            <span class="vss-updated">{text}</span>
            <button
                type="button"
                class="vss-refresh"
                aria-busy=move || if loading.get() { "true" } else { "false" }
                // Not `disabled`: a disabled button drops the keyboard focus of whoever pressed it.
                aria-disabled=move || if loading.get() { "true" } else { "false" }
                on:click=move |_| {
                    if !loading.get_untracked() {
                        on_refresh.run(());
                    }
                }
            >
                "Refresh"
            </button>
        </div>
    }
}
