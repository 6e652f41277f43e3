//! Vantage sync status widget.

pub mod model;
