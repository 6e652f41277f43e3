//! How the widget reads, at any scale: the first screen first, then the rest, then only what
//! changed.
//!
//! 1. **The first screen**: the exact counts and the view's first [`FIRST_SCREEN`] cards, in
//!    one round trip (two requests side by side, which `index.html`'s head script may already
//!    have made).
//! 2. **The rest**: every row in name order, a page of [`PAGE_ROWS`] at a time (keyset
//!    paging), each page shown as it arrives.
//! 3. **Each refresh**: `vantage_sync_health_changes` since the previous answer's clock, merged
//!    into the [`RowStore`] and checked against the database's digest of the same snapshot; on a
//!    difference, everything is read again (the cards shown stay until the new ones are in).
//!
//! Compact mode (one resource) and a database without the function read everything at each
//! refresh, as `api::fetch_health` always did. The rules behind the steps are the model's
//! ([`Coverage`]); this module only runs them.

use futures_util::future::join;
use postgrest_dialect::PAGE_ROWS;

use crate::api::{self, ApiError, FIRST_SCREEN, Failure};
use crate::browser;
use crate::config::Config;
use crate::model::{Card, Counts, Coverage, RowStore, Span, Timestamp};

/// What the widget shows after a step of a read.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    /// Every card held, sorted red, yellow, green, then name.
    pub cards: Vec<Card>,
    /// The summary's counts (the database's until every row is in).
    pub counts: Counts,
    /// `(loaded, total)` while the rest is being read.
    pub progress: Option<(usize, usize)>,
    /// Whether the rows came from the health view (else from the state table).
    pub from_view: bool,
    /// Server clock minus browser clock.
    pub clock_offset: Span,
    /// When the data arrived, by the browser's clock.
    pub received_at: Timestamp,
}

/// The reader's state between refreshes.
#[derive(Clone, Debug, Default)]
pub struct Reader {
    store: RowStore,
    coverage: Coverage,
    /// Read everything at each refresh: compact mode, or no `vantage_sync_health_changes`.
    whole: bool,
}

impl Reader {
    /// A reader for `config`: compact mode always reads its one row whole.
    pub fn new(config: &Config) -> Self {
        Self {
            whole: config.resource.is_some(),
            ..Self::default()
        }
    }

    /// One refresh as the user of `token`; `show` gets each state worth showing, the last one
    /// complete. On an error the reader keeps what it had, and the next refresh carries on.
    pub async fn read(
        &mut self,
        config: &Config,
        token: Option<&str>,
        mut show: impl FnMut(Shown),
    ) -> Result<(), ApiError> {
        if !self.whole {
            let result = match self.coverage.reads_since() {
                Some(since) => self.refresh(config, token, since, &mut show).await,
                None => self.read_all(config, token, &mut show).await,
            };
            match result {
                // A database that predates the function (or the view): read as before.
                Err(Failure::NoSuchRelation) => self.whole = true,
                other => return other.map_err(Failure::into_error),
            }
        }
        let snapshot = api::fetch_health(config, token).await?;
        let read_at = snapshot.received_at.plus(snapshot.clock_offset);
        let mut store = RowStore::default();
        store.merge(snapshot.rows);
        let cards = store.cards(read_at);
        show(Shown {
            counts: Counts::of(&cards),
            cards,
            progress: None,
            from_view: snapshot.from_view,
            clock_offset: snapshot.clock_offset,
            received_at: snapshot.received_at,
        });
        Ok(())
    }

    /// The first screen, then every row.
    async fn read_all(
        &mut self,
        config: &Config,
        token: Option<&str>,
        show: &mut impl FnMut(Shown),
    ) -> Result<(), Failure> {
        let (summary, first) = join(
            api::read_changes(config, token, None),
            api::read_first_screen(config, token),
        )
        .await;
        let (summary, clock_offset) = summary?;
        let first = first?;
        let more = first.len() >= FIRST_SCREEN;
        self.store = RowStore::default();
        self.store.merge(first);
        self.coverage = Coverage::Partial {
            counts: summary.counts.unwrap_or_default(),
            total: summary.digest.total,
        };
        let now = summary.now;
        show(shown(&self.store, &self.coverage, now, clock_offset));
        // A first screen that is not full holds every row already.
        if more {
            let coverage = self.coverage.clone();
            read_pages(config, token, &mut self.store, |store| {
                show(shown(store, &coverage, now, clock_offset));
            })
            .await?;
        }
        self.coverage = Coverage::Complete {
            as_of: now,
            schedules: summary.digest.schedules,
        };
        show(shown(&self.store, &self.coverage, now, clock_offset));
        Ok(())
    }

    /// What changed since `since`; everything again when the digest says the copy is off.
    async fn refresh(
        &mut self,
        config: &Config,
        token: Option<&str>,
        since: Timestamp,
        show: &mut impl FnMut(Shown),
    ) -> Result<(), Failure> {
        let (changes, clock_offset) = api::read_changes(config, token, Some(since)).await?;
        let mut store = self.store.clone();
        store.merge(changes.rows);
        let coverage = self
            .coverage
            .after_refresh(&store, &changes.digest, changes.now);
        if coverage == Coverage::Nothing {
            // Read into a new copy: the cards shown stay until it is whole.
            store = RowStore::default();
            read_pages(config, token, &mut store, |_| ()).await?;
        }
        self.store = store;
        self.coverage = Coverage::Complete {
            as_of: changes.now,
            schedules: changes.digest.schedules,
        };
        show(shown(
            &self.store,
            &self.coverage,
            changes.now,
            clock_offset,
        ));
        Ok(())
    }
}

/// Reads every row into `store`, page after page in name order; `after_page` sees the store
/// after each page but the last.
async fn read_pages(
    config: &Config,
    token: Option<&str>,
    store: &mut RowStore,
    mut after_page: impl FnMut(&RowStore),
) -> Result<(), Failure> {
    let mut after: Option<String> = None;
    loop {
        let page = api::read_page_after(config, token, after.as_deref()).await?;
        let last = page.last().map(|row| row.resource.clone());
        // Keyset paging moves forward; the same last row again means the server ignored the
        // filter: never loop.
        if last.is_some() && last == after {
            return Err(Failure::Error(ApiError::BadData));
        }
        let full = page.len() >= PAGE_ROWS;
        store.merge(page);
        if !full {
            return Ok(());
        }
        after_page(store);
        after = last;
    }
}

/// What to show of `store` at `now` while it stands at `coverage`.
fn shown(store: &RowStore, coverage: &Coverage, now: Timestamp, clock_offset: Span) -> Shown {
    let cards = store.cards(now);
    Shown {
        counts: coverage.counts(&cards),
        progress: coverage.progress(store.len()),
        cards,
        from_view: true,
        clock_offset,
        received_at: browser::now(),
    }
}
