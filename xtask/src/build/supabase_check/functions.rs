//! Each function's files as `functions deploy` uploads them: its entrypoint in the bundle, no
//! import map, its imports inside the bundle, and every file it reads at run time listed in
//! `static_files`, each pattern of which matches a file.

use std::collections::BTreeSet;
use std::path::Path;

use super::config::FunctionEntry;
use super::imports::walk_imports;
use super::paths::{glob_matches, inside, join, parent};
use super::report::Report;

/// Checks one function: its entrypoint, the import graph, the files read at run time and
/// `static_files`.
pub(super) fn check_function(
    bundle: &Path,
    files: &BTreeSet<String>,
    function: &FunctionEntry,
    report: &mut Report,
) {
    let name = &function.name;
    let before = report.findings.len();
    let entry_setting = function
        .entrypoint
        .clone()
        .unwrap_or_else(|| format!("functions/{name}/index.ts"));
    // Paths in config.toml are relative to its folder, the bundle (`resolve` in the CLI's
    // `pkg/config/config.go`); one outside it would not travel with the bundle.
    let Some(entrypoint) = inside(&entry_setting) else {
        report.findings.push(format!(
            "config.toml: `functions.{name}.entrypoint = {entry_setting:?}` is outside the bundle"
        ));
        return;
    };
    if !files.contains(&entrypoint) {
        report.findings.push(format!(
            "functions.{name}: its entrypoint {entrypoint} is not in the bundle"
        ));
        return;
    }

    // An import map could send specifiers anywhere; the bundle is meant to need none.
    let function_dir = parent(&entrypoint);
    let mut maps: BTreeSet<String> = [function_dir.clone(), format!("functions/{name}")]
        .iter()
        .flat_map(|dir| ["deno.json", "deno.jsonc", "import_map.json"].map(|f| join(dir, f)))
        .filter(|candidate| files.contains(candidate))
        .collect();
    if files.contains("functions/import_map.json") {
        maps.insert("functions/import_map.json".to_owned());
    }
    if let Some(map) = &function.import_map {
        maps.insert(map.clone());
    }
    for map in maps {
        report.findings.push(format!(
            "functions.{name}: import map {map}: the CLI would resolve imports through it, which \
             this check does not read; the bundle's imports must resolve from its files alone"
        ));
    }

    let (modules, reads) = walk_imports(bundle, files, &entrypoint, &mut report.findings);
    let patterns = static_patterns(files, function, &mut report.findings);
    for (read, module) in &reads {
        if !files.contains(read) {
            report.findings.push(format!(
                "{module}: reads {read} at run time, which is not in the bundle"
            ));
        } else if !patterns.iter().any(|p| glob_matches(p, read)) {
            report.findings.push(format!(
                "{module}: reads {read} at run time, but `functions.{name}.static_files` does not \
                 list it, so `functions deploy` would not upload it"
            ));
        }
    }
    if report.findings.len() == before {
        report.checked.push(format!(
            "functions/{name}: {} modules, every import relative and inside the bundle (none \
             remote); {} file(s) read at run time, each in static_files ({} pattern(s), each \
             matching a file)",
            modules.len(),
            reads.len(),
            patterns.len()
        ));
    }
}

/// A function's `static_files` patterns, bundle-relative; each one that the CLI would not
/// read as this check does, or that matches no file, is a finding.
fn static_patterns(
    files: &BTreeSet<String>,
    function: &FunctionEntry,
    findings: &mut Vec<String>,
) -> Vec<String> {
    let name = &function.name;
    let mut patterns = Vec::new();
    for pattern in &function.static_files {
        if pattern.contains(['[', '\\', '{']) {
            findings.push(format!(
                "config.toml: `functions.{name}.static_files` entry {pattern:?} uses glob syntax \
                 this check does not model (only `*` and `?`)"
            ));
            continue;
        }
        let Some(normal) = inside(pattern) else {
            findings.push(format!(
                "config.toml: `functions.{name}.static_files` entry {pattern:?} is outside the \
                 bundle"
            ));
            continue;
        };
        if !files.iter().any(|f| glob_matches(&normal, f)) {
            // `functions deploy` prints a warning and deploys without it.
            findings.push(format!(
                "config.toml: `functions.{name}.static_files` entry {pattern:?} matches no file in \
                 the bundle"
            ));
        }
        patterns.push(normal);
    }
    patterns
}

#[cfg(test)]
mod tests {
    use crate::build::supabase::DEFAULT_PG;
    use crate::build::supabase_check::test_bundle::{
        FUNCTION_DIR, assert_one_finding, findings_of, good_bundle, put,
    };
    use crate::error::{Result, XtaskError};

    #[test]
    fn a_missing_static_file_is_a_finding() -> Result<()> {
        let bundle = good_bundle("static-missing", DEFAULT_PG)?;
        let wasm = bundle
            .0
            .join(FUNCTION_DIR)
            .join("vantage_edge_deno_bg.wasm");
        std::fs::remove_file(&wasm).map_err(XtaskError::io("removing", &wasm))?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(&findings, "matches no file in the bundle");
        assert_one_finding(
            &findings,
            "reads functions/vantage-sync/vantage_edge_deno_bg.wasm at run time, which is not in the bundle",
        );
        Ok(())
    }

    #[test]
    fn an_import_map_is_a_finding() -> Result<()> {
        let bundle = good_bundle("import-map", DEFAULT_PG)?;
        put(
            &bundle,
            &format!("{FUNCTION_DIR}/deno.json"),
            "{\"imports\": {}}",
        )?;
        assert_one_finding(
            &findings_of(&bundle)?,
            "import map functions/vantage-sync/deno.json",
        );
        Ok(())
    }
}
