//! The spec's queries in `tests/pgtap/22_spec_queries.sql` are the spec's, byte for byte: sample
//! queries 1-6, the monitoring dashboard query and the four alert queries. pgTAP runs them
//! against the migrated schema; this test fails when a copy there drifts from the spec text.
//! Needs no stack; `cargo xtask test db` runs it beside pgTAP.

use vantage_sync_tests::spec::{spec_path, spec_queries, sql_blocks};

fn spec() -> Option<String> {
    let path = spec_path();
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            // The shared checks are skipped the same way where the spec is not beside the
            // workspace; set VANTAGE_SPEC to its path to run this anywhere.
            eprintln!(
                "skipped: the spec is not at {} ({e}); set VANTAGE_SPEC",
                path.display()
            );
            None
        }
    }
}

#[test]
fn pgtap_runs_each_of_the_spec_s_eleven_queries_verbatim() {
    let Some(spec) = spec() else { return };
    let queries = spec_queries(&spec);
    let headings: Vec<&str> = queries.iter().map(|q| q.heading.as_str()).collect();
    assert_eq!(
        queries.len(),
        11,
        "the spec should have queries 1-6, the dashboard query and 4 alert queries; found {headings:?}"
    );
    let pgtap = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pgtap/22_spec_queries.sql"),
    )
    .unwrap_or_else(|e| panic!("reading tests/pgtap/22_spec_queries.sql: {e}"));
    for query in &queries {
        assert!(
            pgtap.contains(&format!("$spec${}$spec$", query.sql)),
            "tests/pgtap/22_spec_queries.sql does not run the spec's \"{}\" byte for byte; copy it again from {}:\n{}",
            query.heading,
            spec_path().display(),
            query.sql
        );
    }
}

#[test]
fn blocks_are_read_byte_for_byte_and_list_indentation_is_removed() {
    let markdown = "### Query 9: Demo\n\n```sql\nSELECT 1\n  FROM t;  \n```\n\n1. **Item**\n   ```sql\n   SELECT 2\n     FROM u;\n   -- note\n   ```\n";
    let blocks = sql_blocks(markdown);
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    assert_eq!(blocks[0].heading, "### Query 9: Demo");
    assert_eq!(blocks[0].sql, "SELECT 1\n  FROM t;  \n");
    assert_eq!(blocks[1].heading, "1. **Item**");
    assert_eq!(blocks[1].sql, "SELECT 2\n  FROM u;\n-- note\n");
}
