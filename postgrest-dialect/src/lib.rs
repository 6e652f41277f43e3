//! The PostgREST dialect that the widget (`app/`) and the edge function (`edge/core`) both
//! speak: what an error answer means, in the words of PostgREST 12.0.2 (tested here) and of
//! 14.x (Supabase's platform), and how a read goes page by page under PostgREST's row cap.
//!
//! Pure and dependency-free: no I/O, no JSON. Each caller turns a [`Meaning`] into its own
//! error (a sentence for the widget's user, a stable error code for the edge's callers); the
//! differences between the versions, with their sources, are in `docs/postgrest-versions.md`.

mod meaning;
mod paging;

pub use meaning::{Meaning, is_missing_from_schema, meaning, refuses_token};
pub use paging::{MAX_PAGES, PAGE_ROWS, Pages};
