//! Edge function core (filled by the edge issue).
