//! The widget itself: reads through `api.rs`, keeps the last good data, ticks the clock, and
//! lays out the components. The one stateful part; everything it shows comes from the model.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::actions::CardActions;
use crate::api::{ApiError, FIRST_SCREEN};
use crate::browser;
use crate::components::{CardList, CompactStatus, Freshness, LocalTimes, Pager, SummaryBar};
use crate::config::Config;
use crate::events;
use crate::model::{
    Cadence, Card, Countdown, ErrorLine, Filter, HealthChange, MINUTE, ReadEnd, SECOND, Span,
    Timestamp, after_read, ago, health_changes, retry_text,
};
use crate::reader::{Reader, Shown};
use crate::session::{Session, is_sync_admin};

/// The status widget for `config`: the card overview, or one line in compact mode
/// (`config.resource`). Refreshes every `config.refresh_seconds` while the page is visible,
/// backs off after failures, and tells `host` (the element it lives in) about expired sessions
/// and health changes by events (see [`crate::events`]).
#[component]
pub fn Widget(
    /// Validated settings.
    config: Config,
    /// Where the access token comes from before each read.
    session: Session,
    /// Where the widget's events are dispatched; none: no events.
    #[prop(optional)]
    host: Option<web_sys::EventTarget>,
) -> impl IntoView {
    let compact = config.resource.is_some();
    let shared = Arc::new(config.clone());
    let feed = Feed::start(config, session, host);
    let local_times = LocalTimes::provide_off();
    // The first cards go on screen without local times (see `LocalTimes`), which follow.
    Effect::new(move || {
        if feed.shown.with(Option::is_some) || feed.error.with(Option::is_some) {
            local_times.turn_on_after_paint();
        }
    });
    provide_context(CardActions::new(
        shared,
        session,
        feed.admin.read_only(),
        feed.refresh,
    ));
    if compact {
        view! { <CompactWidget feed/> }.into_any()
    } else {
        view! { <Overview feed/> }.into_any()
    }
}

/// The widget's live state, shared by its views: what the last good read shows, the last
/// error, and the browser's clock ticking each second (so relative times move without a
/// refetch).
#[derive(Clone, Copy)]
struct Feed {
    shown: RwSignal<Option<Shown>>,
    error: RwSignal<Option<ApiError>>,
    loading: RwSignal<bool>,
    client_now: RwSignal<Timestamp>,
    /// When the next automatic read after a failure happens (browser clock).
    retry_at: RwSignal<Option<Timestamp>>,
    /// The last health changes, as one sentence for screen readers.
    announcement: RwSignal<String>,
    /// Whether the token of the last read marks a sync admin (who may abort stuck runs).
    admin: RwSignal<bool>,
    refresh: Callback<()>,
}

impl Feed {
    /// Starts the clock and the reads: one now, then as [`after_read`] plans after each (every
    /// `refresh_seconds` after a success, 1 s, 2 s, 4 s … 30 s after failures in a row). While the
    /// page is hidden a due read waits until it is visible again.
    fn start(config: Config, session: Session, host: Option<web_sys::EventTarget>) -> Self {
        let every = i64::from(config.refresh_seconds) * SECOND;
        let reads = ReadLoop {
            shown: RwSignal::new(None),
            error: RwSignal::new(None),
            loading: RwSignal::new(false),
            retry_at: RwSignal::new(None),
            announcement: RwSignal::new(String::new()),
            admin: RwSignal::new(false),
            host: StoredValue::new_local(host),
            reader: StoredValue::new(Some(Reader::new(&config))),
            config: StoredValue::new(Arc::new(config)),
            session,
            cadence: StoredValue::new(Cadence::default()),
            again: StoredValue::new(false),
            timer: Timer::new(),
            every,
        };
        let refresh = Callback::new(move |()| reads.request());
        pause_while_hidden(reads.timer, refresh);
        // A new token from the host: read at once (it may end an expired session).
        Effect::watch(
            move || session.changes().get(),
            move |_, _, _| refresh.run(()),
            false,
        );
        refresh.run(());
        Self {
            shown: reads.shown,
            error: reads.error,
            loading: reads.loading,
            client_now: ticking_clock(),
            retry_at: reads.retry_at,
            announcement: reads.announcement,
            admin: reads.admin,
            refresh,
        }
    }

    /// The current time by the server's clock (the browser's, corrected by the `Date` header).
    fn server_now(self) -> Signal<Timestamp> {
        Signal::derive(move || {
            let offset = self
                .shown
                .with(|s| s.as_ref().map_or(Span::ZERO, |s| s.clock_offset));
            self.client_now.get().plus(offset)
        })
    }

    /// When the shown data arrived (browser clock).
    fn updated_at(self) -> Signal<Option<Timestamp>> {
        Signal::derive(move || self.shown.with(|s| s.as_ref().map(|s| s.received_at)))
    }

    /// The cards held, sorted red, yellow, green, then name.
    fn cards(self) -> Memo<Vec<Card>> {
        Memo::new(move |_| {
            self.shown
                .with(|s| s.as_ref().map_or_else(Vec::new, |s| s.cards.clone()))
        })
    }

    /// The error banner's text, if the last read failed: with the age of the data still shown.
    fn banner_text(self) -> Option<String> {
        let e = self.error.get()?;
        let now = self.client_now.get();
        let mut text = e.to_string();
        if e != ApiError::SessionExpired {
            let mut parts = Vec::new();
            if let Some(t) = self.updated_at().get() {
                let age = now.since(t);
                // "showing data from just now" reads as if nothing were wrong.
                let when = if age < MINUTE {
                    "less than a minute ago".to_owned()
                } else {
                    ago(age)
                };
                parts.push(format!("showing data from {when}"));
            }
            if let Some(at) = self.retry_at.get() {
                parts.push(retry_text(at, now));
            }
            if !parts.is_empty() {
                text = format!("{text} \u{2014} {}", parts.join(", "));
            }
        }
        Some(text)
    }

    /// The polite live region that announces health changes to screen readers.
    fn live_region(self) -> impl IntoView {
        view! {
            <span class="vss-sr-only" role="status" aria-live="polite">
                {move || self.announcement.get()}
            </span>
        }
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

/// The read loop: one read at a time, each followed by what [`after_read`] plans. Its parts
/// outlive a read; the widget's views see the signals.
#[derive(Clone, Copy)]
struct ReadLoop {
    shown: RwSignal<Option<Shown>>,
    error: RwSignal<Option<ApiError>>,
    loading: RwSignal<bool>,
    retry_at: RwSignal<Option<Timestamp>>,
    announcement: RwSignal<String>,
    admin: RwSignal<bool>,
    host: StoredValue<Option<web_sys::EventTarget>, LocalStorage>,
    /// Taken out for a read and put back after it (one read at a time).
    reader: StoredValue<Option<Reader>>,
    config: StoredValue<Arc<Config>>,
    session: Session,
    cadence: StoredValue<Cadence>,
    /// A read asked for while one is under way (a new token, a click) follows it: the answer
    /// under way may be from the old token.
    again: StoredValue<bool>,
    timer: Timer,
    every: Span,
}

impl ReadLoop {
    /// A read, now or right after the one under way.
    fn request(self) {
        if self.loading.get_untracked() {
            self.again.set_value(true);
            return;
        }
        self.loading.set(true);
        spawn_local(self.read());
    }

    /// Reads with the session's token, showing each step, then carries out the plan. Nothing
    /// happens once the widget is unmounted: no request leaves after `unmount()` has returned.
    async fn read(self) {
        let token = self.session.token().await;
        if self.loading.is_disposed() {
            return;
        }
        self.admin.set(token.as_deref().is_some_and(is_sync_admin));
        let Some(mut reader) = self.reader.try_update_value(Option::take).flatten() else {
            return;
        };
        let config = self.config.get_value();
        let result = reader
            .read(&config, token.as_deref(), |step| {
                show(step, self.shown, self.announcement, self.host);
            })
            .await;
        if self.loading.is_disposed() {
            return;
        }
        self.reader.set_value(Some(reader));
        self.loading.set(false);
        let follow_up = self.again.get_value();
        self.again.set_value(false);
        self.carry_out(result, follow_up);
    }

    /// Does what [`after_read`] plans for `result`.
    fn carry_out(self, result: Result<(), ApiError>, follow_up: bool) {
        let end = match &result {
            Ok(()) => ReadEnd::Read,
            Err(ApiError::SessionExpired) => ReadEnd::SessionExpired,
            Err(_) => ReadEnd::Failed,
        };
        let plan = after_read(end, self.cadence.get_value(), follow_up, self.every);
        self.cadence.set_value(plan.cadence);
        match plan.error {
            ErrorLine::Keep => {}
            ErrorLine::Clear => self.error.set(None),
            // Keep the last good data: the banner says how old it is.
            ErrorLine::ThisRead => self.error.set(result.err()),
        }
        match plan.countdown {
            Countdown::Keep => {}
            Countdown::Clear => self.retry_at.set(None),
            Countdown::In(delay) => self.retry_at.set(Some(browser::now().plus(delay))),
        }
        if plan.tell_host_expired {
            self.host
                .with_value(|host| host.as_ref().map(events::auth_required));
        }
        self.timer.schedule(plan.next_read_in);
    }
}

/// The next automatic read: one pending at a time, none after the widget is unmounted.
#[derive(Clone, Copy)]
struct Timer {
    pending: StoredValue<Option<TimeoutHandle>>,
    /// What the timer runs (the automatic read, set by [`pause_while_hidden`]): the read itself
    /// schedules the timer, and the slot breaks that cycle.
    automatic: StoredValue<Option<Callback<()>>>,
}

impl Timer {
    fn new() -> Self {
        let pending = StoredValue::new(None::<TimeoutHandle>);
        on_cleanup(move || {
            if let Some(handle) = pending.get_value() {
                handle.clear();
            }
        });
        Self {
            pending,
            automatic: StoredValue::new(None),
        }
    }

    /// Runs the automatic read once after `delay`, replacing the one scheduled before.
    fn schedule(self, delay: Span) {
        if let Some(handle) = self.pending.get_value() {
            handle.clear();
        }
        let delay = delay.to_std();
        let automatic = self.automatic;
        let fire = move || {
            if let Some(read) = automatic.get_value() {
                read.run(());
            }
        };
        self.pending
            .set_value(set_timeout_with_handle(fire, delay).ok());
    }
}

/// The browser's clock, moved each second until the widget is unmounted.
fn ticking_clock() -> RwSignal<Timestamp> {
    let now = RwSignal::new(browser::now());
    let ticking = set_interval_with_handle(move || now.set(browser::now()), Duration::from_secs(1));
    if let Ok(ticking) = ticking {
        on_cleanup(move || ticking.clear());
    }
    now
}

/// Makes the timer's read happen only while the page is visible: a read that falls due while it
/// is hidden happens when it is shown again.
fn pause_while_hidden(timer: Timer, refresh: Callback<()>) {
    let due_while_hidden = StoredValue::new(false);
    timer.automatic.set_value(Some(Callback::new(move |()| {
        if browser::page_is_hidden() {
            due_while_hidden.set_value(true);
        } else {
            refresh.run(());
        }
    })));
    let listener = window_event_listener_untyped("visibilitychange", move |_| {
        if !browser::page_is_hidden() && due_while_hidden.get_value() {
            due_while_hidden.set_value(false);
            refresh.run(());
        }
    });
    let listener = StoredValue::new_local(Some(listener));
    on_cleanup(move || {
        listener.update_value(|listener| {
            if let Some(listener) = listener.take() {
                listener.remove();
            }
        });
    });
}

/// Announces health changes to screen readers and sends one event each to the host.
fn report_changes(
    changes: &[HealthChange],
    announcement: RwSignal<String>,
    host: StoredValue<Option<web_sys::EventTarget>, LocalStorage>,
) {
    if changes.is_empty() {
        return;
    }
    let sentences: Vec<String> = changes.iter().map(HealthChange::announcement).collect();
    announcement.set(sentences.join(". "));
    host.with_value(|host| {
        if let Some(host) = host {
            for change in changes {
                events::health_changed(host, change);
            }
        }
    });
}

/// Shows a step of a read, and once it is whole, announces and reports the health changes
/// since the last one shown.
fn show(
    step: Shown,
    shown: RwSignal<Option<Shown>>,
    announcement: RwSignal<String>,
    host: StoredValue<Option<web_sys::EventTarget>, LocalStorage>,
) {
    if shown.is_disposed() {
        return;
    }
    if step.progress.is_none() {
        let changes = shown
            .with_untracked(|old| {
                old.as_ref()
                    .map(|old| health_changes(&old.cards, &step.cards))
            })
            .unwrap_or_default();
        report_changes(&changes, announcement, host);
    }
    shown.set(Some(step));
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
    view! {
        <span class="vss-root vss-root-compact">{line}" "{feed.banner()}{feed.live_region()}</span>
    }
}

/// The overview: freshness and refresh, the error banner, the summary and filters, the cards.
#[component]
fn Overview(feed: Feed) -> impl IntoView {
    let cards = feed.cards();
    let updated_at = feed.updated_at();
    let filter = RwSignal::new(None::<Filter>);
    let name = RwSignal::new(String::new());
    let counts = Signal::derive(move || {
        feed.shown
            .with(|s| s.as_ref().map(|s| s.counts).unwrap_or_default())
    });
    let page = RwSignal::new(0_usize);
    // A new filter starts at the first page.
    Effect::watch(
        move || (filter.get(), name.get()),
        move |_, _, _| page.set(0),
        false,
    );
    // How many cards pass the filters (over every card held), and the page of them that is
    // drawn: the DOM stays small at any number of resources. One memo that reads the cards
    // itself: a memo of the matching positions in between would hide a change of a card whose
    // position did not move, and the list would not be redrawn.
    let listed = Memo::new(move |_| {
        let (wanted, name) = (filter.get(), name.get());
        cards.with(|all| {
            let matching: Vec<&Card> = all.iter().filter(|c| c.matches(wanted, &name)).collect();
            let start = page_start(page.get(), matching.len());
            let shown: Vec<Card> = matching
                .iter()
                .skip(start)
                .take(FIRST_SCREEN)
                .map(|&c| c.clone())
                .collect();
            (matching.len(), shown)
        })
    });
    let matching = Signal::derive(move || listed.with(|(count, _)| *count));
    let shown = Signal::derive(move || listed.with(|(_, shown)| shown.clone()));
    let progress = Signal::derive(move || feed.shown.with(|s| s.as_ref().and_then(|s| s.progress)));
    let from_table = move || {
        let from_table = feed
            .shown
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
        } else if matching.get() == 0 {
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
            {feed.live_region()}
            <SummaryBar counts filter name/>
            {from_table}
            <CardList cards=shown now=feed.server_now()/>
            {empty}
            <Pager
                page
                matching
                per_page=FIRST_SCREEN
                progress
            />
        </section>
    }
}

/// The first position of page `page` of `matching` cards, the last page if it is past the end
/// (the list may have shrunk since it was chosen).
fn page_start(page: usize, matching: usize) -> usize {
    let last = matching.saturating_sub(1) / FIRST_SCREEN;
    page.min(last) * FIRST_SCREEN
}
