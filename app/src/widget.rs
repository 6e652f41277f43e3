//! The widget itself: reads through `api.rs`, keeps the last good data, ticks the clock, and
//! lays out the components. The one stateful part; everything it shows comes from the model.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError, Snapshot};
use crate::browser;
use crate::components::{CardList, CompactStatus, Freshness, SummaryBar};
use crate::config::Config;
use crate::model::{Card, Counts, Health, Timestamp, ago, sort_cards};

/// The status widget for `config`: the card overview, or one line in compact mode
/// (`config.resource`). Refreshes every `config.refresh_seconds`.
#[component]
pub fn Widget(
    /// Validated settings.
    config: Config,
) -> impl IntoView {
    let compact = config.resource.is_some();
    let feed = Feed::start(config);
    if compact {
        view! { <CompactWidget feed/> }.into_any()
    } else {
        view! { <Overview feed/> }.into_any()
    }
}

/// The widget's live state, shared by its views: the last good answer, the last error, and
/// the browser's clock ticking each second (so relative times move without a refetch).
#[derive(Clone, Copy)]
struct Feed {
    snapshot: RwSignal<Option<Snapshot>>,
    error: RwSignal<Option<ApiError>>,
    loading: RwSignal<bool>,
    client_now: RwSignal<Timestamp>,
    refresh: Callback<()>,
}

impl Feed {
    /// Starts the clock and the reads: one now, then every `refresh_seconds`.
    fn start(config: Config) -> Self {
        let every = Duration::from_secs(u64::from(config.refresh_seconds));
        let config = Arc::new(config);
        let client_now = RwSignal::new(browser::now());
        set_interval(
            move || client_now.set(browser::now()),
            Duration::from_secs(1),
        );
        let snapshot = RwSignal::new(None::<Snapshot>);
        let error = RwSignal::new(None::<ApiError>);
        let loading = RwSignal::new(false);
        let refresh = Callback::new(move |()| {
            if loading.get_untracked() {
                return;
            }
            loading.set(true);
            let config = Arc::clone(&config);
            spawn_local(async move {
                match api::fetch_health(&config).await {
                    Ok(s) => {
                        snapshot.set(Some(s));
                        error.set(None);
                    }
                    // Keep the last good data: the banner says how old it is.
                    Err(e) => error.set(Some(e)),
                }
                loading.set(false);
            });
        });
        refresh.run(());
        set_interval(move || refresh.run(()), every);
        Self {
            snapshot,
            error,
            loading,
            client_now,
            refresh,
        }
    }

    /// The current time by the server's clock (the browser's, corrected by the `Date` header).
    fn server_now(self) -> Signal<Timestamp> {
        Signal::derive(move || {
            let offset = self
                .snapshot
                .with(|s| s.as_ref().map_or(0, |s| s.clock_offset));
            self.client_now.get().plus(offset)
        })
    }

    /// When the shown data arrived (browser clock).
    fn updated_at(self) -> Signal<Option<Timestamp>> {
        Signal::derive(move || self.snapshot.with(|s| s.as_ref().map(|s| s.received_at)))
    }

    /// The cards of the last answer, sorted red, yellow, green, then name.
    fn cards(self) -> Memo<Vec<Card>> {
        Memo::new(move |_| {
            self.snapshot.with(|s| {
                s.as_ref().map_or_else(Vec::new, |s| {
                    // Table rows (no view) are classified as of the time they were read.
                    let read_at = s.received_at.plus(s.clock_offset);
                    let mut cards: Vec<Card> = s
                        .rows
                        .iter()
                        .cloned()
                        .map(|r| Card::from_row(r, read_at))
                        .collect();
                    sort_cards(&mut cards);
                    cards
                })
            })
        })
    }

    /// The error banner's text, if the last read failed: with the age of the data still shown.
    fn banner_text(self) -> Option<String> {
        let e = self.error.get()?;
        Some(match (&e, self.updated_at().get()) {
            (ApiError::SessionExpired, _) | (_, None) => e.to_string(),
            (_, Some(t)) => format!(
                "{e} \u{2014} showing data from {}",
                ago(self.client_now.get().since(t))
            ),
        })
    }

    /// The banner: a `<span>` (CSS makes it a block in the overview), so compact mode, which
    /// may sit inside a paragraph, stays valid HTML, and both modes share one view's code.
    fn banner(self) -> impl IntoView {
        move || {
            self.banner_text()
                .map(|text| view! { <span class="vss-banner" role="alert">{text}</span> })
        }
    }
}

/// Compact mode: one line for one resource.
#[component]
fn CompactWidget(feed: Feed) -> impl IntoView {
    let cards = feed.cards();
    let now = feed.server_now();
    let loaded = feed.updated_at();
    let line = move || {
        cards.get().into_iter().next().map_or_else(
            || {
                let text = if loaded.get().is_some() {
                    "No sync state yet"
                } else {
                    ""
                };
                view! { <span class="vss-compact">{text}</span> }.into_any()
            },
            |card| view! { <CompactStatus card now/> }.into_any(),
        )
    };
    view! { <span class="vss-root vss-root-compact">{line}" "{feed.banner()}</span> }
}

/// The overview: freshness and refresh, the error banner, the summary and filters, the cards.
#[component]
fn Overview(feed: Feed) -> impl IntoView {
    let cards = feed.cards();
    let updated_at = feed.updated_at();
    let filter = RwSignal::new(None::<Health>);
    let name = RwSignal::new(String::new());
    let counts = Signal::derive(move || Counts::of(&cards.get()));
    let shown = Signal::derive(move || {
        let (health, name) = (filter.get(), name.get());
        cards.with(|all| {
            all.iter()
                .filter(|c| c.matches(health, &name))
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let from_table = move || {
        let from_table = feed
            .snapshot
            .with(|s| s.as_ref().is_some_and(|s| !s.from_view));
        from_table.then(|| {
            view! {
                <p class="vss-note">
                    "This database has no health view yet: health is worked out in the browser \
                     with the default limits (stale after 24 h, stuck after 30 min, slow over 5 min)."
                </p>
            }
        })
    };
    let empty = move || {
        updated_at.get()?;
        let text = if cards.with(Vec::is_empty) {
            "No syncs yet."
        } else if shown.with(Vec::is_empty) {
            "No resource matches the filter."
        } else {
            return None;
        };
        Some(view! { <p class="vss-empty">{text}</p> })
    };
    view! {
        <section class="vss-root" aria-label="Sync status">
            <header class="vss-header">
                <h2 class="vss-title">"Sync status"</h2>
                <Freshness
                    updated_at
                    now=feed.client_now
                    loading=feed.loading
                    on_refresh=feed.refresh
                />
            </header>
            {feed.banner()}
            <SummaryBar counts filter name/>
            {from_table}
            <CardList cards=shown now=feed.server_now()/>
            {empty}
        </section>
    }
}
