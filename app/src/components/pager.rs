//! Pages of the card list, and the progress of reading every row.

use leptos::prelude::*;

use crate::model::grouped;

/// "51–100 of 10,007" with Previous and Next, when the matching cards fill more than one page;
/// "Loading 3,000 of 10,007 resources…" while the rest of the rows are read (filters and counts
/// of the list cover the rows already read until then). Nothing otherwise.
#[component]
pub fn Pager(
    /// The page shown, from 0 (past the last: the last).
    page: RwSignal<usize>,
    /// How many cards pass the filters.
    #[prop(into)]
    matching: Signal<usize>,
    /// Cards per page.
    per_page: usize,
    /// `(loaded, total)` while the rest is being read.
    #[prop(into)]
    progress: Signal<Option<(usize, usize)>>,
) -> impl IntoView {
    let pages = move || matching.get().div_ceil(per_page).max(1);
    let current = move || page.get().min(pages() - 1);
    let range = move || {
        let n = matching.get();
        let start = current() * per_page;
        format!(
            "{}\u{2013}{} of {}",
            grouped(i64::try_from(start + 1).unwrap_or(i64::MAX)),
            grouped(i64::try_from((start + per_page).min(n)).unwrap_or(i64::MAX)),
            grouped(i64::try_from(n).unwrap_or(i64::MAX))
        )
    };
    let buttons = move || {
        (pages() > 1).then(|| {
            view! {
                <button
                    type="button"
                    class="vss-page vss-page-previous"
                    disabled=move || current() == 0
                    on:click=move |_| page.set(current().saturating_sub(1))
                >
                    "Previous"
                </button>
                <span class="vss-range">{range}</span>
                <button
                    type="button"
                    class="vss-page vss-page-next"
                    // Braced: a bare `>=` would end the tag in `view!`.
                    disabled=move || { current() + 1 >= pages() }
                    on:click=move |_| page.set(current() + 1)
                >
                    "Next"
                </button>
            }
        })
    };
    let loading = move || {
        progress.get().map(|(loaded, total)| {
            let text = format!(
                "Loading {} of {} resources\u{2026}",
                grouped(i64::try_from(loaded).unwrap_or(i64::MAX)),
                grouped(i64::try_from(total).unwrap_or(i64::MAX))
            );
            view! { <span class="vss-progress">{text}</span> }
        })
    };
    move || {
        (pages() > 1 || progress.with(Option::is_some)).then(|| {
            view! {
                <nav class="vss-pager" aria-label="Pages of resources">
                    {loading}
                    {buttons}
                </nav>
            }
        })
    }
}
