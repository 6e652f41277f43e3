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

/// Where the spec lives: `$VANTAGE_SPEC`, or `shared/seed/vantage_sync_state.md` beside the
/// workspace.
pub fn spec_path() -> std::path::PathBuf {
    std::env::var_os("VANTAGE_SPEC").map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/seed/vantage_sync_state.md")
        },
        std::path::PathBuf::from,
    )
}

/// One fenced SQL block of the spec, with the line that introduces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecSql {
    /// The last non-blank line before the fence: a heading (`### Query 3: ...`) or a list item
    /// (`2. **Stale Sync ...**`).
    pub heading: String,
    /// The block's text, byte for byte, without the list indentation of a block inside a list
    /// item; it ends with a newline.
    pub sql: String,
    /// Where its opening fence starts in the Markdown text (a byte offset).
    pub at: usize,
}

/// Every ```` ```sql ```` block of a Markdown text, in order.
pub fn sql_blocks(markdown: &str) -> Vec<SpecSql> {
    let mut blocks = Vec::new();
    let mut heading = "";
    // The open block: its fence's indentation, and the block so far.
    let mut open: Option<(usize, SpecSql)> = None;
    let mut offset = 0;
    for line in markdown.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        let bare = line.trim_end_matches('\n');
        let trimmed = bare.trim_start_matches(' ');
        let indent = bare.len() - trimmed.len();
        if let Some((fence_indent, mut block)) = open.take() {
            if trimmed == "```" && indent == fence_indent {
                blocks.push(block);
            } else {
                // A line inside a list item's block loses the item's indentation, no more.
                let dedent = indent.min(fence_indent);
                block.sql.push_str(&line[dedent..]);
                open = Some((fence_indent, block));
            }
        } else if trimmed == "```sql" {
            let block = SpecSql {
                heading: heading.trim().to_owned(),
                sql: String::new(),
                at,
            };
            open = Some((indent, block));
        } else if !trimmed.is_empty() {
            heading = bare;
        }
    }
    blocks
}

/// The spec's sample queries 1-6, its monitoring dashboard query and its four alert queries, in
/// that order, named as the spec names them; a name the spec no longer has is left out (callers
/// check the count).
pub fn spec_queries(markdown: &str) -> Vec<SpecSql> {
    let blocks = sql_blocks(markdown);
    let alerts_at = markdown
        .find("### Alert Conditions")
        .unwrap_or(markdown.len());
    let alerts_end = markdown[alerts_at..]
        .find("\n## ")
        .map_or(markdown.len(), |end| alerts_at + end);
    let mut wanted: Vec<SpecSql> = Vec::new();
    for n in 1..=6 {
        wanted.extend(
            blocks
                .iter()
                .find(|b| b.heading.starts_with(&format!("### Query {n}:")))
                .cloned(),
        );
    }
    wanted.extend(
        blocks
            .iter()
            .find(|b| b.heading == "### Monitoring Dashboard Query")
            .cloned(),
    );
    for n in 1..=4 {
        wanted.extend(
            blocks
                .iter()
                .find(|b| {
                    (alerts_at..alerts_end).contains(&b.at)
                        && b.heading.starts_with(&format!("{n}. **"))
                })
                .cloned(),
        );
    }
    wanted
}
