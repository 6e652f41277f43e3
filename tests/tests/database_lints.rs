//! Supabase's database linter on the live database: every lint of 0001–0029 that can apply to
//! the project's own objects (`vantage_sync_tests::lints`), plus the project's four, checked in
//! the catalog of the running stack with every migration applied, not in the migration files.
//! ERROR and WARN findings fail; an INFO finding passes only when `INFO_ALLOWED` lists it with
//! a reason (docs/database.md, "Supabase's database linter", says the same).

use std::collections::BTreeSet;

use vantage_sync_tests::lints::{
    FROM_STATISTICS, INFO_ALLOWED, Level, Lint, NOT_APPLICABLE, PROJECT, SUPABASE,
};
use vantage_sync_tests::{Db, Error, Result, Stack, check};

/// Every lint this test runs: Supabase's, then the project's.
fn all_lints() -> impl Iterator<Item = &'static Lint> {
    SUPABASE.iter().chain(PROJECT.iter())
}

/// What `lint` finds, sorted.
fn findings(db: &Db, lint: &Lint) -> Result<BTreeSet<String>> {
    Ok(db
        .query(&lint.query(), &[])?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// The index of the allowance that lets `finding` of `lint` stay: INFO findings only.
fn allowance(lint: &Lint, finding: &str) -> Option<usize> {
    if lint.level != Level::Info {
        return None;
    }
    INFO_ALLOWED
        .iter()
        .position(|allowance| allowance.allows(lint.code, finding))
}

#[test]
fn the_live_database_passes_every_lint() -> Result<()> {
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    let mut failures = Vec::new();
    let mut seen = [false; INFO_ALLOWED.len()];
    println!("database lints ({}):", stack.database_url());
    for lint in all_lints() {
        let found = findings(&db, lint)?;
        let level = lint.level.as_str();
        println!("  {:<57} {level:<5} {} finding(s)", lint.code, found.len());
        let mut refused = Vec::new();
        for finding in &found {
            if let Some(index) = allowance(lint, finding) {
                seen[index] = true;
                println!("      allowed: {finding}");
            } else {
                println!("      {finding}");
                refused.push(finding.as_str());
            }
        }
        if !refused.is_empty() {
            failures.push(format!(
                "{level} {}: {} ({})",
                lint.code,
                refused.join(", "),
                lint.why
            ));
        }
    }
    for (allowed, _) in INFO_ALLOWED.iter().zip(seen).filter(|(_, seen)| !seen) {
        if FROM_STATISTICS.contains(&allowed.code) {
            println!("  not seen this run: {} {}", allowed.code, allowed.finding);
        } else {
            failures.push(format!(
                "allowed but not found (drop it from INFO_ALLOWED and docs/database.md): {} {}",
                allowed.code, allowed.finding
            ));
        }
    }
    check(failures.is_empty(), || failures.join("\n"))
}

/// Each lint finds what it looks for: its probe plants an offender in a transaction that is
/// rolled back, and the lint must then find something it did not find before.
#[test]
fn every_lint_catches_its_offence() -> Result<()> {
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    let mut failures = Vec::new();
    for lint in all_lints() {
        let before = findings(&db, lint)?;
        let planted = db.batch(&format!("BEGIN; {};", lint.probe));
        let after = planted.and_then(|()| findings(&db, lint));
        db.batch("ROLLBACK")?;
        match after {
            Ok(after) if after.difference(&before).next().is_some() => {}
            Ok(after) => failures.push(format!(
                "{} did not catch its probe (found {after:?}): {}",
                lint.code, lint.probe
            )),
            Err(e) => failures.push(format!("{}: its probe failed: {e}", lint.code)),
        }
    }
    check(failures.is_empty(), || failures.join("\n"))
}

/// The number of a code such as `0011_function_search_path_mutable`.
fn number(code: &str) -> Option<u32> {
    code.split_once('_')?.0.parse().ok()
}

#[test]
fn every_lint_from_0001_to_0029_is_checked_or_said_not_to_apply() -> Result<()> {
    let checked = SUPABASE.iter().map(|lint| lint.code);
    let explained = NOT_APPLICABLE.iter().map(|(code, _)| *code);
    let mut numbers: Vec<Option<u32>> = checked.chain(explained).map(number).collect();
    numbers.sort_unstable();
    let expected: Vec<Option<u32>> = (1..=29).map(Some).collect();
    check(numbers == expected, || {
        format!("each of 1..=29 once, checked or not applicable; got {numbers:?}")
    })?;
    let codes: Vec<&str> = all_lints().map(|lint| lint.code).collect();
    check(
        codes.iter().collect::<BTreeSet<_>>().len() == codes.len(),
        || format!("a code twice: {codes:?}"),
    )
}

#[test]
fn only_info_findings_are_allowed_and_each_says_why() -> Result<()> {
    for allowed in &INFO_ALLOWED {
        let lint = all_lints().find(|lint| lint.code == allowed.code);
        check(lint.is_some_and(|lint| lint.level == Level::Info), || {
            format!(
                "{} allowed for {}, which is no INFO lint",
                allowed.finding, allowed.code
            )
        })?;
        check(!allowed.reason.trim().is_empty(), || {
            format!("{} {} has no reason", allowed.code, allowed.finding)
        })?;
    }
    Ok(())
}

/// docs/database.md lists what this test checks, what it does not, and the INFO findings that
/// stay, so the two cannot part.
#[test]
fn docs_database_md_lists_every_lint_and_allowed_finding() -> Result<()> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/database.md");
    let docs = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    let lints = all_lints().map(|lint| lint.code);
    let explained = NOT_APPLICABLE.iter().map(|(code, _)| *code);
    let allowed = INFO_ALLOWED.iter().map(|allowed| allowed.finding);
    let missing: Vec<&str> = lints
        .chain(explained)
        .chain(allowed)
        .filter(|text| !docs.contains(&format!("`{text}`")))
        .collect();
    check(missing.is_empty(), || {
        format!("docs/database.md does not name (in backticks): {missing:?}")
    })
}
