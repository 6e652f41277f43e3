//! `config.toml` as the Supabase CLI reads it: parsed, its keys checked against the CLI's
//! schema, `db.major_version` and `project_id` as the CLI takes them, and each
//! `[functions.<name>]` entry with a name the CLI accepts and `verify_jwt` set; every function
//! folder the CLI would deploy has an entry.

use std::collections::BTreeSet;
use std::path::Path;

use super::paths::{glob_matches, inside};
use super::report::Report;
use super::schema::{CLI_MAJOR_VERSIONS, CONFIG_KEYS, check_table};

/// A `[functions.<name>]` entry, as far as the bundle's files depend on it.
#[derive(Debug)]
pub(super) struct FunctionEntry {
    pub(super) name: String,
    pub(super) entrypoint: Option<String>,
    pub(super) import_map: Option<String>,
    pub(super) static_files: Vec<String>,
}

/// Each `db.migrations.schema_paths` pattern matches a file of the bundle: the CLI builds the
/// declarative schema from them for `supabase db diff`, and a pattern matching nothing would
/// leave a team diffing against an empty schema. (`config.toml` that does not parse is already
/// a finding of [`check_config`].)
pub(super) fn check_schema_paths(bundle: &Path, files: &BTreeSet<String>, report: &mut Report) {
    let Some(config) = std::fs::read_to_string(bundle.join("config.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
    else {
        return;
    };
    let patterns: Vec<&str> = config
        .get("db")
        .and_then(|db| db.get("migrations"))
        .and_then(|m| m.get("schema_paths"))
        .and_then(toml::Value::as_array)
        .map(|list| list.iter().filter_map(toml::Value::as_str).collect())
        .unwrap_or_default();
    let before = report.findings.len();
    let mut matched = 0;
    for pattern in &patterns {
        let relative = inside(pattern).unwrap_or_default();
        let count = files.iter().filter(|f| glob_matches(&relative, f)).count();
        if count == 0 {
            report.findings.push(format!(
                "config.toml: `db.migrations.schema_paths` pattern \"{pattern}\" matches no file of the bundle"
            ));
        }
        matched += count;
    }
    if !patterns.is_empty() && report.findings.len() == before {
        report.checked.push(format!(
            "config.toml: `db.migrations.schema_paths` ({} pattern(s)) matches {matched} schema files",
            patterns.len()
        ));
    }
}

/// Parses and checks `config.toml`; returns the functions it declares.
pub(super) fn check_config(bundle: &Path, report: &mut Report) -> Vec<FunctionEntry> {
    let path = bundle.join("config.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            report
                .findings
                .push(format!("config.toml: cannot be read ({e})"));
            return Vec::new();
        }
    };
    let config: toml::Table = match text.parse() {
        Ok(config) => config,
        Err(e) => {
            report.findings.push(format!(
                "config.toml: does not parse as TOML: {}",
                e.to_string().trim()
            ));
            return Vec::new();
        }
    };
    let before = report.findings.len();
    let mut keys = 0;
    check_table("", &config, CONFIG_KEYS, &mut keys, &mut report.findings);

    let major_value = config.get("db").and_then(|db| db.get("major_version"));
    let major = major_value.and_then(toml::Value::as_integer);
    match major {
        // Not an integer: already a finding of the schema check.
        None if major_value.is_some() => {}
        // The CLI would fill in its template's default, which changes between CLI versions
        // and must match the remote project anyway: the bundle says it.
        None => report.findings.push(
            "config.toml: `db.major_version` is not set; set it to the project's Postgres major \
             version (`SHOW server_version;`)"
                .to_owned(),
        ),
        Some(12) => report.findings.push(
            "config.toml: `db.major_version = 12`: the Supabase CLI no longer supports Postgres 12"
                .to_owned(),
        ),
        Some(v) if !CLI_MAJOR_VERSIONS.contains(&v) => report.findings.push(format!(
            "config.toml: `db.major_version = {v}` is not one the Supabase CLI accepts \
             ({CLI_MAJOR_VERSIONS:?})"
        )),
        Some(_) => {}
    }
    if let Some(id) = config.get("project_id").and_then(toml::Value::as_str)
        && sanitized_project_id(id) != id
    {
        report.findings.push(format!(
            "config.toml: `project_id = {id:?}` would be changed by the CLI to {:?} (letters, \
             digits, `_.-` only, starting with a letter or digit, at most 40 characters)",
            sanitized_project_id(id)
        ));
    }

    let functions = function_entries(&config, &mut report.findings);
    if report.findings.len() == before {
        report.checked.push(format!(
            "config.toml: {keys} keys, each one the Supabase CLI's config declares, with its type; \
             db.major_version = {}; functions: {}",
            major.unwrap_or_default(),
            functions
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    functions
}

/// The project id as the CLI's `sanitizeProjectId` leaves it (`pkg/config/config.go`).
fn sanitized_project_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    let mut in_run = false;
    for c in id.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
            out.push(c);
            in_run = false;
        } else if !in_run {
            // The CLI replaces each run of other characters with one `_`.
            out.push('_');
            in_run = true;
        }
    }
    out.trim_start_matches(['_', '.', '-'])
        .chars()
        .take(40)
        .collect()
}

/// The functions `config.toml` declares, with the name and `verify_jwt` checks.
fn function_entries(config: &toml::Table, findings: &mut Vec<String>) -> Vec<FunctionEntry> {
    let Some(functions) = config.get("functions").and_then(toml::Value::as_table) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for (name, value) in functions {
        let Some(table) = value.as_table() else {
            continue; // already a finding of the schema check
        };
        if !is_function_slug(name) {
            findings.push(format!(
                "config.toml: `[functions.{name}]`: the Supabase CLI refuses function names that \
                 do not match ^[A-Za-z][A-Za-z0-9_-]*$"
            ));
        }
        if !table.contains_key("verify_jwt") {
            // The CLI's default is `true`: the gateway would then refuse every caller without a
            // Supabase JWT. Whatever the function wants, the bundle says it.
            findings.push(format!(
                "config.toml: `[functions.{name}]` does not set `verify_jwt`; the Supabase CLI \
                 would deploy it with `verify_jwt = true`"
            ));
        }
        let string = |key: &str| {
            table
                .get(key)
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
        };
        entries.push(FunctionEntry {
            name: name.clone(),
            entrypoint: string("entrypoint"),
            import_map: string("import_map"),
            static_files: table
                .get("static_files")
                .and_then(toml::Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(toml::Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    entries
}

/// The CLI's function name pattern, `^[A-Za-z][A-Za-z0-9_-]*$` (`pkg/config/config.go`).
pub(super) fn is_function_slug(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `functions deploy` without names deploys every `functions/<name>/index.ts` too
/// (`internal/functions/deploy/deploy.go`); one without a config entry would get the CLI's
/// defaults, `verify_jwt = true` among them.
pub(super) fn functions_without_config(
    files: &BTreeSet<String>,
    functions: &[FunctionEntry],
    report: &mut Report,
) {
    for file in files {
        let parts: Vec<&str> = file.split('/').collect();
        if let ["functions", name, "index.ts"] = parts.as_slice()
            && is_function_slug(name)
            && !functions.iter().any(|f| f.name == *name)
        {
            report.findings.push(format!(
                "{file}: `functions deploy` would deploy it, but config.toml has no \
                 `[functions.{name}]` (it would get the CLI's defaults, `verify_jwt = true`)"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::supabase::{DEFAULT_PG, config_toml};
    use crate::build::supabase_check::check;
    use crate::build::supabase_check::test_bundle::{
        assert_one_finding, findings_of, good_bundle, put,
    };
    use crate::error::{Result, XtaskError};

    #[test]
    fn an_unknown_key_is_named() -> Result<()> {
        let bundle = good_bundle("unknown-key", DEFAULT_PG)?;
        let config = config_toml(DEFAULT_PG).replace("static_files", "static_file");
        put(&bundle, "config.toml", &config)?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(
            &findings,
            "unknown key `functions.vantage-sync.static_file`",
        );
        // Without static_files the wasm module would not be uploaded.
        assert_one_finding(&findings, "does not list it");
        let result = check(&bundle.0);
        assert!(
            matches!(&result, Err(XtaskError::BundleCheck { findings, .. }) if findings.contains("static_file`"))
        );
        Ok(())
    }

    #[test]
    fn a_schema_path_matching_no_file_is_named() -> Result<()> {
        let bundle = good_bundle("schema-paths", DEFAULT_PG)?;
        let config = config_toml(DEFAULT_PG).replace("./schemas/*.sql", "./schema/*.sql");
        put(&bundle, "config.toml", &config)?;
        assert_one_finding(
            &findings_of(&bundle)?,
            "pattern \"./schema/*.sql\" matches no file of the bundle",
        );
        Ok(())
    }

    #[test]
    fn unmodelled_sections_wrong_types_and_versions_are_findings() -> Result<()> {
        let bundle = good_bundle("config-values", DEFAULT_PG)?;
        let config = config_toml(DEFAULT_PG)
            .replace("major_version = 17", "major_version = 16")
            .replace("verify_jwt = false", "verify_jwt = \"false\"")
            + "\n[auth]\nenabled = true\n";
        put(&bundle, "config.toml", &config)?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(&findings, "`db.major_version = 16` is not one");
        assert_one_finding(&findings, "`functions.vantage-sync.verify_jwt` is a string");
        assert_one_finding(&findings, "`[auth]` is a section the Supabase CLI knows");

        put(
            &bundle,
            "config.toml",
            "project_id = \"x\"\n[db]\nport = 54322\n",
        )?;
        assert_one_finding(&findings_of(&bundle)?, "`db.major_version` is not set");

        put(&bundle, "config.toml", "project_id = [\n")?;
        assert_one_finding(&findings_of(&bundle)?, "does not parse as TOML");
        Ok(())
    }

    #[test]
    fn a_function_must_set_verify_jwt_and_have_a_config_entry() -> Result<()> {
        let bundle = good_bundle("verify-jwt", DEFAULT_PG)?;
        let config = config_toml(DEFAULT_PG).replace("verify_jwt = false", "");
        put(&bundle, "config.toml", &config)?;
        put(
            &bundle,
            "functions/other/index.ts",
            "Deno.serve(() => new Response());\n",
        )?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(&findings, "does not set `verify_jwt`");
        assert_one_finding(&findings, "no `[functions.other]`");
        Ok(())
    }

    #[test]
    fn project_ids_are_sanitized_as_the_cli_does() {
        assert_eq!(sanitized_project_id("vantage-sync"), "vantage-sync");
        assert_eq!(sanitized_project_id("-my project!!x"), "my_project_x");
        assert_eq!(sanitized_project_id(&"a".repeat(50)).len(), 40);
    }
}
