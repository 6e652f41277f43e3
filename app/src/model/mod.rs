//! The widget's pure core: health rules, card text, relative time, sorting and filtering.
//!
//! Nothing here does I/O or reads a clock: every function that depends on the time takes `now`
//! as an argument, so the model runs (and is tested) natively, against the same truth table as
//! the SQL view.

mod card;
mod card_text;
mod health;
mod listing;
mod read_plan;
mod refresh;
mod row;
mod run;
mod span;
mod store;
mod time;

pub use card::{Card, Retry, State};
pub use card_text::updated_text;
pub use health::{Alert, Facts, Health, Status, Thresholds, alerts_of, classify_health};
pub use listing::{Counts, Filter, sort_cards};
pub use read_plan::{Cadence, Countdown, ErrorLine, Plan, ReadEnd, after_read};
pub use refresh::{FIRST_RETRY, HealthChange, MAX_RETRY, health_changes, retry_delay, retry_text};
pub use row::{SyncError, SyncRow};
pub use run::RunSummary;
pub use span::{DAY, HOUR, MINUTE, SECOND, Span, ago, count, duration_text, short_span, span};
pub use store::{CHECKSUM_MODULUS, Coverage, Digest, OVERLAP, RowStore};
pub use time::{Timestamp, grouped, parse_interval};
