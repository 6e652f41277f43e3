//! The widget's views. Each takes plain data (cards, counts, a `now` signal) and decides
//! nothing: text comes from the model, data from `api.rs` through `widget.rs`. So each one can
//! be mounted and checked in a browser test without a server.
//!
//! Text from the database (resource names, error codes and messages) is always placed as text
//! nodes or attribute values, never parsed as HTML.

mod abort_button;
mod card;
mod card_list;
mod compact;
mod error_list;
mod freshness;
mod local_times;
mod pager;
mod run_history;
mod summary;

pub use abort_button::AbortButton;
pub use card::HealthCard;
pub use card_list::CardList;
pub use compact::CompactStatus;
pub use error_list::ErrorList;
pub use freshness::Freshness;
pub use local_times::{LocalTimes, local_times_on};
pub use pager::Pager;
pub use run_history::RunHistory;
pub use summary::SummaryBar;
