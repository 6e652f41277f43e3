//! Names fixed by the spec (`shared/seed/vantage_sync_state.md`) and by the tests' conventions.

/// The table, schema-qualified.
pub const TABLE: &str = "public.vantage_sync_state";

/// The resources the migration seeds, in the spec's order.
pub const SEEDED_RESOURCES: [&str; 7] = [
    "accounts",
    "funds",
    "cashflows",
    "commitments",
    "investors",
    "investments",
    "valuations",
];

/// Prefix of the resources the ETL-flow tests create for themselves; no other test touches
/// rows with this prefix, and checksums of attack tests leave them out.
pub const FLOW_PREFIX: &str = "it_flow_";

/// A resource of the flow test `test` that no earlier run used (`it_flow_<test>_<pid>_<ns>`),
/// so a run interrupted mid-sync on a reused dev stack cannot get in the way of the next.
pub fn flow_resource(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{FLOW_PREFIX}{test}_{}_{nanos}", std::process::id())
}

/// The errors array of the spec's `fail_vantage_sync` example.
pub fn spec_errors() -> serde_json::Value {
    serde_json::json!([
        {
            "code": "API_TIMEOUT",
            "message": "Vantage API request timed out after 30s",
            "timestamp": "2025-11-05T10:30:00Z"
        },
        {
            "code": "PARSE_ERROR",
            "message": "Invalid JSON in record ID 12345",
            "record_id": "12345"
        }
    ])
}
