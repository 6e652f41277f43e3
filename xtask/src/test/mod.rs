//! `cargo xtask test`: the suites, their steps, and the reliability parts with their figures.

pub mod db_diff_refusals;
pub mod figures;
pub mod fuzz;
pub mod reliability;
pub mod rollback_round_trip;
pub mod schemathesis;
pub mod secrets;
pub mod steps;
pub mod suite;

pub use suite::Suite;
