//! The Supabase bundle checked as the Supabase CLI reads it.
//!
//! The CLI cannot be installed here, so `cargo xtask bundle supabase` checks the folder it wrote
//! against what the CLI's source expects. Read in `supabase/cli` at commit `1d1e719` (June 2026),
//! Go sources under `apps/cli-go/`:
//!
//! - `config.toml` parses as TOML and holds only keys the CLI's config structs declare
//!   (`pkg/config/config.go`, `db.go`, `api.go`), with the types they declare. The CLI decodes
//!   it with viper's `UnmarshalExact`, so an unknown key stops every command there too; the
//!   sections this bundle never writes (`[auth]`, `[storage]`, ...) are known by name only and
//!   refused until their keys are added to [`CONFIG_KEYS`]. `db.major_version` is one that
//!   `Validate` accepts (13, 14, 15, 17) and is written out, not left to the CLI's default.
//!   Each function's name matches the CLI's `^[A-Za-z][A-Za-z0-9_-]*$` and it sets
//!   `verify_jwt` itself (the CLI's default is `true`, which would turn ETL jobs away).
//! - Every file in `migrations/` is named as `^([0-9]+)_(.*)\.sql$` (`pkg/migration/file.go`):
//!   `ListLocalMigrations` (`list.go`) skips any other file with only a line on stderr. Versions
//!   are unique (the primary key of `supabase_migrations.schema_migrations`, `history.go`), and
//!   no `_rollback.sql` is there to be pushed as a migration.
//! - Each function's entrypoint (`functions/<name>/index.ts` unless `entrypoint` says otherwise)
//!   imports, transitively, only relative files inside the bundle: nothing remote (`http:`,
//!   `https:`, `npm:`, `jsr:`), no bare specifier, no import map. `functions deploy` uploads the
//!   files its own walk of the imports finds (`pkg/function/deno.go`, `deploy.go`).
//! - Every file a module reads at run time (`new URL("…", import.meta.url)`,
//!   `Deno.readFile*("…")`) is matched by the function's `static_files`, and every pattern
//!   matches a file: `functions deploy` only warns when one matches nothing, and the function
//!   then fails at its first request.
//! - `tests/` holds pgTAP files that `pg_prove` picks up the way `supabase test db` runs it
//!   (`internal/db/test/test.go`, see [`pg_prove_command`]), with no psql include reaching
//!   outside `tests/` (the CLI mounts only that folder into `pg_prove`'s container).
//!
//! `deno check` of the entrypoint runs in `build/supabase.rs`; this module does no I/O but
//! reading the bundle.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::error::{Result, XtaskError};

/// What the CLI's config struct declares for a key: the kinds this check needs.
enum Kind {
    Bool,
    /// An unsigned integer (`uint`, `uint16` in the Go structs).
    Integer,
    String,
    /// An array of strings (`[]string`, `Glob`).
    Strings,
    /// A table whose keys are all listed.
    Table(&'static [(&'static str, Kind)]),
    /// A table of user-chosen names, each holding the inner kind (`[functions.<name>]`).
    Named(&'static Kind),
    /// A table of user-chosen names to strings (`[edge_runtime.secrets]`, `[db.vault]`).
    Secrets,
    /// A section the CLI knows that this check does not model; the Go file that declares it.
    NotModelled(&'static str),
}

/// `[functions.<name>]`: `function` in `pkg/config/config.go`.
const FUNCTION_KEYS: &[(&str, Kind)] = &[
    ("enabled", Kind::Bool),
    ("verify_jwt", Kind::Bool),
    ("import_map", Kind::String),
    ("entrypoint", Kind::String),
    ("static_files", Kind::Strings),
];
const FUNCTION: Kind = Kind::Table(FUNCTION_KEYS);

/// `[db]` and its tables: `db`, `pooler`, `migrations`, `seed`, `settings`,
/// `networkRestrictions`, `sslEnforcement` in `pkg/config/db.go`.
const DB_KEYS: &[(&str, Kind)] = &[
    ("port", Kind::Integer),
    ("shadow_port", Kind::Integer),
    ("health_timeout", Kind::String),
    ("major_version", Kind::Integer),
    ("root_key", Kind::String),
    (
        "pooler",
        Kind::Table(&[
            ("enabled", Kind::Bool),
            ("port", Kind::Integer),
            ("pool_mode", Kind::String),
            ("default_pool_size", Kind::Integer),
            ("max_client_conn", Kind::Integer),
        ]),
    ),
    (
        "migrations",
        Kind::Table(&[("enabled", Kind::Bool), ("schema_paths", Kind::Strings)]),
    ),
    (
        "seed",
        Kind::Table(&[("enabled", Kind::Bool), ("sql_paths", Kind::Strings)]),
    ),
    (
        "settings",
        Kind::Table(&[
            ("effective_cache_size", Kind::String),
            ("logical_decoding_work_mem", Kind::String),
            ("maintenance_work_mem", Kind::String),
            ("max_connections", Kind::Integer),
            ("max_locks_per_transaction", Kind::Integer),
            ("max_parallel_maintenance_workers", Kind::Integer),
            ("max_parallel_workers", Kind::Integer),
            ("max_parallel_workers_per_gather", Kind::Integer),
            ("max_replication_slots", Kind::Integer),
            ("max_slot_wal_keep_size", Kind::String),
            ("max_standby_archive_delay", Kind::String),
            ("max_standby_streaming_delay", Kind::String),
            ("max_wal_size", Kind::String),
            ("max_wal_senders", Kind::Integer),
            ("max_worker_processes", Kind::Integer),
            ("session_replication_role", Kind::String),
            ("shared_buffers", Kind::String),
            ("statement_timeout", Kind::String),
            ("track_activity_query_size", Kind::String),
            ("track_commit_timestamp", Kind::Bool),
            ("wal_keep_size", Kind::String),
            ("wal_sender_timeout", Kind::String),
            ("work_mem", Kind::String),
        ]),
    ),
    (
        "network_restrictions",
        Kind::Table(&[
            ("enabled", Kind::Bool),
            ("allowed_cidrs", Kind::Strings),
            ("allowed_cidrs_v6", Kind::Strings),
        ]),
    ),
    ("ssl_enforcement", Kind::Table(&[("enabled", Kind::Bool)])),
    ("vault", Kind::Secrets),
];

/// `[api]`: `api` and `tlsKong` in `pkg/config/api.go`.
const API_KEYS: &[(&str, Kind)] = &[
    ("enabled", Kind::Bool),
    ("port", Kind::Integer),
    ("schemas", Kind::Strings),
    ("extra_search_path", Kind::Strings),
    ("max_rows", Kind::Integer),
    ("auto_expose_new_tables", Kind::Bool),
    ("external_url", Kind::String),
    (
        "tls",
        Kind::Table(&[
            ("enabled", Kind::Bool),
            ("cert_path", Kind::String),
            ("key_path", Kind::String),
        ]),
    ),
];

/// `[edge_runtime]`: `edgeRuntime` in `pkg/config/config.go`.
const EDGE_RUNTIME_KEYS: &[(&str, Kind)] = &[
    ("enabled", Kind::Bool),
    ("policy", Kind::String),
    ("inspector_port", Kind::Integer),
    ("secrets", Kind::Secrets),
    ("deno_version", Kind::Integer),
];

/// The top level: `baseConfig` and `config` in `pkg/config/config.go`. The subset a bundle of
/// migrations, functions and pgTAP tests uses or could use is modelled key by key; the other
/// sections by name only.
const CONFIG_KEYS: &[(&str, Kind)] = &[
    ("project_id", Kind::String),
    ("api", Kind::Table(API_KEYS)),
    ("db", Kind::Table(DB_KEYS)),
    ("edge_runtime", Kind::Table(EDGE_RUNTIME_KEYS)),
    ("functions", Kind::Named(&FUNCTION)),
    ("realtime", Kind::NotModelled("pkg/config/config.go")),
    ("studio", Kind::NotModelled("pkg/config/config.go")),
    ("inbucket", Kind::NotModelled("pkg/config/config.go")),
    ("storage", Kind::NotModelled("pkg/config/storage.go")),
    ("auth", Kind::NotModelled("pkg/config/auth.go")),
    ("analytics", Kind::NotModelled("pkg/config/config.go")),
    ("experimental", Kind::NotModelled("pkg/config/config.go")),
    ("remotes", Kind::NotModelled("pkg/config/config.go")),
];

/// The `db.major_version` values the CLI's `Validate` accepts (`pkg/config/config.go`).
pub const CLI_MAJOR_VERSIONS: [i64; 4] = [13, 14, 15, 17];

/// The flags `supabase test db` passes to `pg_prove` (`internal/db/test/test.go`): files ending
/// in `.pg` or `.sql`, found recursively under the folder given after them.
pub const PG_PROVE_FLAGS: [&str; 5] = ["--ext", ".pg", "--ext", ".sql", "-r"];

/// What the check found in a bundle folder.
#[derive(Debug, Default)]
pub struct Report {
    /// What was checked and held, one line each (for progress notes).
    pub checked: Vec<String>,
    /// What the Supabase CLI would refuse, skip or deploy broken, one line each; each names
    /// the file and the key or specifier.
    pub findings: Vec<String>,
}

/// Checks the bundle in `bundle`; returns what was checked, or `XtaskError::BundleCheck`
/// listing every finding.
pub fn check(bundle: &Path) -> Result<Vec<String>> {
    let report = inspect(bundle)?;
    if report.findings.is_empty() {
        Ok(report.checked)
    } else {
        Err(XtaskError::BundleCheck {
            dir: bundle.to_path_buf(),
            findings: report.findings.iter().fold(String::new(), |mut all, f| {
                let _ = writeln!(all, "  - {f}");
                all
            }),
        })
    }
}

/// Inspects the bundle in `bundle`. Errors only when the folder itself cannot be read; every
/// problem with its contents is a finding.
pub fn inspect(bundle: &Path) -> Result<Report> {
    let mut report = Report::default();
    let files = bundle_files(bundle)?;
    let functions = check_config(bundle, &mut report);
    for function in &functions {
        check_function(bundle, &files, function, &mut report);
    }
    functions_without_config(&files, &functions, &mut report);
    check_migrations(bundle, &mut report)?;
    check_tests(bundle, &files, &mut report);
    let pg_prove = pg_prove_command(
        Path::new("pg_prove"),
        bundle,
        &PgConnection::supabase_local(),
    );
    report.checked.push(format!(
        "pgTAP: `supabase test db` runs, against its local database: {}",
        shell_line(&pg_prove)
    ));
    Ok(report)
}

/// A `[functions.<name>]` entry, as far as the bundle's files depend on it.
#[derive(Debug)]
struct FunctionEntry {
    name: String,
    entrypoint: Option<String>,
    import_map: Option<String>,
    static_files: Vec<String>,
}

/// Parses and checks `config.toml`; returns the functions it declares.
fn check_config(bundle: &Path, report: &mut Report) -> Vec<FunctionEntry> {
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

/// Checks the keys of `table` (at `path`, `""` for the top level) against `keys`.
fn check_table(
    path: &str,
    table: &toml::Table,
    keys: &[(&str, Kind)],
    count: &mut usize,
    findings: &mut Vec<String>,
) {
    for (key, value) in table {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match keys.iter().find(|(known, _)| known == key) {
            Some((_, kind)) => check_value(&full, value, kind, count, findings),
            None => findings.push(format!(
                "config.toml: unknown key `{full}`: the Supabase CLI's config has no such key and \
                 refuses the file (known here: {})",
                keys.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

/// Checks one value against what the CLI declares for it.
fn check_value(
    path: &str,
    value: &toml::Value,
    kind: &Kind,
    count: &mut usize,
    findings: &mut Vec<String>,
) {
    let mismatch = |expected: &str| {
        format!(
            "config.toml: `{path}` is {}; the Supabase CLI's config declares {expected}",
            type_name(value)
        )
    };
    match kind {
        Kind::Bool => {
            *count += 1;
            if !value.is_bool() {
                findings.push(mismatch("a boolean"));
            }
        }
        Kind::Integer => {
            *count += 1;
            match value.as_integer() {
                Some(n) if n >= 0 => {}
                Some(n) => findings.push(format!(
                    "config.toml: `{path} = {n}`: the Supabase CLI's config declares an unsigned \
                     integer"
                )),
                None => findings.push(mismatch("an integer")),
            }
        }
        Kind::String => {
            *count += 1;
            if !value.is_str() {
                findings.push(mismatch("a string"));
            }
        }
        Kind::Strings => {
            *count += 1;
            let all_strings = value
                .as_array()
                .is_some_and(|items| items.iter().all(toml::Value::is_str));
            if !all_strings {
                findings.push(mismatch("an array of strings"));
            }
        }
        Kind::Table(keys) => match value.as_table() {
            Some(table) => check_table(path, table, keys, count, findings),
            None => findings.push(mismatch("a table")),
        },
        Kind::Named(inner) => match value.as_table() {
            Some(table) => {
                for (name, item) in table {
                    check_value(&format!("{path}.{name}"), item, inner, count, findings);
                }
            }
            None => findings.push(mismatch("a table of named tables")),
        },
        Kind::Secrets => match value.as_table() {
            Some(table) => {
                for (name, item) in table {
                    check_value(
                        &format!("{path}.{name}"),
                        item,
                        &Kind::String,
                        count,
                        findings,
                    );
                }
            }
            None => findings.push(mismatch("a table of strings")),
        },
        Kind::NotModelled(source) => findings.push(format!(
            "config.toml: `[{path}]` is a section the Supabase CLI knows but this check does not \
             model; add its keys (from the CLI's {source}) to CONFIG_KEYS in \
             xtask/src/build/supabase_check.rs before the bundle writes it"
        )),
    }
}

fn type_name(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a float",
        toml::Value::Boolean(_) => "a boolean",
        toml::Value::Datetime(_) => "a date-time",
        toml::Value::Array(_) => "an array",
        toml::Value::Table(_) => "a table",
    }
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
fn is_function_slug(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `functions deploy` without names deploys every `functions/<name>/index.ts` too
/// (`internal/functions/deploy/deploy.go`); one without a config entry would get the CLI's
/// defaults, `verify_jwt = true` among them.
fn functions_without_config(
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

/// Checks one function: its entrypoint, the import graph, the files read at run time and
/// `static_files`.
fn check_function(
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

/// File name endings whose imports are followed (what Deno loads as modules).
const MODULE_ENDINGS: [&str; 6] = [".ts", ".mts", ".tsx", ".js", ".mjs", ".jsx"];

/// Walks the imports from `entrypoint` (bundle-relative); returns the modules reached and the
/// files they read at run time (each with the module that reads it).
fn walk_imports(
    bundle: &Path,
    files: &BTreeSet<String>,
    entrypoint: &str,
    findings: &mut Vec<String>,
) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut seen = BTreeSet::new();
    let mut reads = BTreeMap::new();
    let mut queue = vec![entrypoint.to_owned()];
    while let Some(module) = queue.pop() {
        if !seen.insert(module.clone()) {
            continue;
        }
        let path = bundle.join(&module);
        let source = match std::fs::read_to_string(&path) {
            Ok(source) => source,
            Err(e) => {
                findings.push(format!("{module}: cannot be read ({e})"));
                continue;
            }
        };
        let refs = module_refs(&source);
        let dir = parent(&module);
        for specifier in &refs.imports {
            match classify(specifier) {
                Specifier::Relative => match inside(&join(&dir, specifier)) {
                    Some(target) if files.contains(&target) => {
                        if MODULE_ENDINGS.iter().any(|e| target.ends_with(e)) {
                            queue.push(target);
                        }
                    }
                    Some(target) => findings.push(format!(
                        "{module}: imports {specifier:?}, but {target} is not in the bundle"
                    )),
                    None => findings.push(format!(
                        "{module}: imports {specifier:?}, which is outside the bundle"
                    )),
                },
                Specifier::Remote => findings.push(format!(
                    "{module}: imports {specifier:?}, a remote module; the function must import \
                     only files in the bundle"
                )),
                Specifier::Builtin => {}
                Specifier::Other(why) => {
                    findings.push(format!("{module}: imports {specifier:?}: {why}"));
                }
            }
        }
        for read in &refs.reads {
            match classify_read(read) {
                Some(relative) => match inside(&join(&dir, relative)) {
                    Some(target) => {
                        reads.insert(target, module.clone());
                    }
                    None => findings.push(format!(
                        "{module}: reads {read:?} at run time, which is outside the bundle"
                    )),
                },
                None => findings.push(format!(
                    "{module}: reads {read:?} at run time, which is not a file of the bundle"
                )),
            }
        }
    }
    (seen, reads)
}

/// What an import specifier is, for a bundle that must resolve from its own files.
#[derive(Debug, PartialEq, Eq)]
enum Specifier {
    /// `./x` or `../x`.
    Relative,
    /// `http:`, `https:`, `npm:`, `jsr:`: fetched at bundle time, never in the folder.
    Remote,
    /// `node:`: built into the runtime.
    Builtin,
    /// Anything else, with why it does not resolve from the bundle.
    Other(&'static str),
}

fn classify(specifier: &str) -> Specifier {
    if specifier.contains("${") {
        return Specifier::Other("a computed specifier this check cannot resolve");
    }
    if specifier.starts_with("./") || specifier.starts_with("../") {
        return Specifier::Relative;
    }
    match scheme(specifier) {
        Some("http" | "https" | "npm" | "jsr") => Specifier::Remote,
        Some("node") => Specifier::Builtin,
        Some(_) => Specifier::Other("a URL scheme that does not resolve from the bundle"),
        None if specifier.starts_with('/') => {
            Specifier::Other("an absolute path, which does not travel with the bundle")
        }
        None => Specifier::Other("a bare specifier, which needs an import map the bundle has not"),
    }
}

/// A file read at run time, relative to the reading module, or `None` when it names no file
/// of the bundle (a URL with a scheme, an absolute path). A plain path given to
/// `Deno.readFile` is taken as relative to the module's folder too: on Supabase a function
/// runs in its own folder (Supabase's static-files changelog entry reads `./my-book.pdf`).
fn classify_read(read: &str) -> Option<&str> {
    if read.contains("${") || read.starts_with('/') || scheme(read).is_some() {
        None
    } else {
        Some(read)
    }
}

/// The URL scheme of a specifier (`https` of `https://…`), if it has one.
fn scheme(specifier: &str) -> Option<&str> {
    let (scheme, _) = specifier.split_once(':')?;
    let mut chars = scheme.chars();
    (chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// What a module refers to: the specifiers it imports and the files it reads at run time.
#[derive(Debug, Default, PartialEq, Eq)]
struct ModuleRefs {
    imports: Vec<String>,
    reads: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Punct(char),
}

/// The `Deno` functions whose first argument, when a string, names a file read at run time.
const DENO_READS: [&str; 6] = [
    "readFile",
    "readFileSync",
    "readTextFile",
    "readTextFileSync",
    "open",
    "openSync",
];

/// The imports and run-time reads of a JavaScript or TypeScript module.
///
/// Not a parser: the source is split into words, string literals and punctuation, comments
/// left out (so an example in a comment is not an import), and these shapes are picked out:
/// `from "x"`, `import "x"`, `import("x")`, `new URL("x", import.meta.url)`,
/// `Deno.readFile("x")` and the like, and Deno's type directives in comments
/// (`@ts-self-types="x"`, `@ts-types="x"`, `/// <reference types|path="x" />`). A regular
/// expression literal holding a quote would confuse it; the wasm-bindgen glue has none.
fn module_refs(source: &str) -> ModuleRefs {
    let (tokens, directives) = tokenize(source);
    let mut refs = ModuleRefs {
        imports: directives,
        reads: Vec::new(),
    };
    let word = |i: usize, w: &str| matches!(tokens.get(i), Some(Token::Word(x)) if x == w);
    let punct = |i: usize, p: char| matches!(tokens.get(i), Some(Token::Punct(x)) if *x == p);
    let string = |i: usize| match tokens.get(i) {
        Some(Token::Str(s)) => Some(s.clone()),
        _ => None,
    };
    for i in 0..tokens.len() {
        // `from "x"` and `import "x"`; `import("x")`.
        let specifier_at = if word(i, "import") && punct(i + 1, '(') {
            Some(i + 2)
        } else if word(i, "from") || word(i, "import") {
            Some(i + 1)
        } else {
            None
        };
        if let Some(s) = specifier_at.and_then(&string) {
            refs.imports.push(s);
        }
        if word(i, "new")
            && word(i + 1, "URL")
            && punct(i + 2, '(')
            && let Some(s) = string(i + 3)
            && punct(i + 4, ',')
            && word(i + 5, "import")
            && punct(i + 6, '.')
            && word(i + 7, "meta")
            && punct(i + 8, '.')
            && word(i + 9, "url")
        {
            refs.reads.push(s);
        }
        if word(i, "Deno")
            && punct(i + 1, '.')
            && DENO_READS.iter().any(|f| word(i + 2, f))
            && punct(i + 3, '(')
            && let Some(s) = string(i + 4)
        {
            refs.reads.push(s);
        }
    }
    refs
}

/// Splits `source` into tokens, without comments; returns them and the specifiers of the
/// type directives found in comments.
fn tokenize(source: &str) -> (Vec<Token>, Vec<String>) {
    let mut tokens = Vec::new();
    let mut directives = Vec::new();
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |n| i + n);
            type_directives(&chars[i..end].iter().collect::<String>(), &mut directives);
            i = end;
        } else if c == '/' && next == Some('*') {
            let end = (i + 2..chars.len().saturating_sub(1))
                .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                .map_or(chars.len(), |j| j + 2);
            type_directives(&chars[i..end].iter().collect::<String>(), &mut directives);
            i = end;
        } else if matches!(c, '"' | '\'' | '`') {
            let mut text = String::new();
            let mut j = i + 1;
            while j < chars.len() && chars[j] != c {
                // A quote ends at the line's end at the latest (an unterminated one is broken
                // source, not a reason to swallow the rest of the file).
                if c != '`' && chars[j] == '\n' {
                    break;
                }
                if chars[j] == '\\' && j + 1 < chars.len() {
                    j += 1;
                }
                text.push(chars[j]);
                j += 1;
            }
            tokens.push(Token::Str(text));
            i = j + 1;
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$')) {
                i += 1;
            }
            tokens.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    (tokens, directives)
}

/// Deno's type directives in a comment: `@ts-self-types="x"`, `@ts-types="x"`,
/// `<reference types="x" />`, `<reference path="x" />`.
fn type_directives(comment: &str, out: &mut Vec<String>) {
    for marker in [
        "@ts-self-types=",
        "@ts-types=",
        "reference types=",
        "reference path=",
    ] {
        for (at, _) in comment.match_indices(marker) {
            let rest = &comment[at + marker.len()..];
            let Some(quote) = rest.chars().next().filter(|q| matches!(q, '"' | '\'')) else {
                continue;
            };
            if let Some(end) = rest[1..].find(quote) {
                out.push(rest[1..=end].to_owned());
            }
        }
    }
}

/// Checks `migrations/` as `supabase db push` lists it.
fn check_migrations(bundle: &Path, report: &mut Report) -> Result<()> {
    let dir = bundle.join("migrations");
    if !dir.is_dir() {
        report
            .findings
            .push("migrations/: missing; `supabase db push` would push nothing".to_owned());
        return Ok(());
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(XtaskError::io("reading", &dir))? {
        let entry = entry.map_err(XtaskError::io("reading", &dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        names.push((name, entry.path().is_dir()));
    }
    // The CLI reads the folder in name order, as `fs.ReadDir` returns it.
    names.sort();
    let before = report.findings.len();
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    for (index, (name, is_dir)) in names.iter().enumerate() {
        if *is_dir {
            report.findings.push(format!(
                "migrations/{name}/: a folder; the Supabase CLI skips folders in migrations/"
            ));
            continue;
        }
        let Some((version, rest)) = migration_parts(name) else {
            report.findings.push(format!(
                "migrations/{name}: not named <version>_<name>.sql (^([0-9]+)_(.*)\\.sql$); the \
                 Supabase CLI skips it"
            ));
            continue;
        };
        if index == 0 && is_legacy_init(name) {
            report.findings.push(format!(
                "migrations/{name}: the CLI skips a first migration named <timestamp>_init.sql \
                 older than 20211209000000"
            ));
        }
        if rest.ends_with("_rollback") {
            report.findings.push(format!(
                "migrations/{name}: a rollback; `supabase db push` would apply it as a forward \
                 migration"
            ));
        }
        if let Some(other) = versions.insert(version.to_owned(), name.clone()) {
            report.findings.push(format!(
                "migrations/{name}: version {version} is also {other}'s; versions are the primary \
                 key of supabase_migrations.schema_migrations"
            ));
        }
    }
    if names.is_empty() {
        report
            .findings
            .push("migrations/: empty; `supabase db push` would push nothing".to_owned());
    }
    if report.findings.len() == before {
        report.checked.push(format!(
            "migrations/: {} files, each named <version>_<name>.sql as the Supabase CLI matches \
             them, versions unique, no rollback",
            names.len()
        ));
    }
    Ok(())
}

/// The version and name of a migration file named as the CLI's `^([0-9]+)_(.*)\.sql$`.
fn migration_parts(file: &str) -> Option<(&str, &str)> {
    let (version, name) = file.strip_suffix(".sql")?.split_once('_')?;
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())).then_some((version, name))
}

/// The CLI's backward-compatible skip of an old `<14 digits>_init.sql` first migration
/// (`shouldSkip` in `pkg/migration/list.go`).
fn is_legacy_init(file: &str) -> bool {
    file.match_indices("_init.sql").any(|(at, _)| {
        let Some(digits) = at.checked_sub(14).map(|start| &file.as_bytes()[start..at]) else {
            return false;
        };
        digits.iter().all(u8::is_ascii_digit)
            && std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse::<u64>().ok())
                .is_some_and(|t| t < 20_211_209_000_000)
    })
}

/// Checks `tests/` as `supabase test db` hands it to `pg_prove`.
fn check_tests(bundle: &Path, files: &BTreeSet<String>, report: &mut Report) {
    let tests: Vec<&String> = files
        .iter()
        // pg_prove's `--ext` compares exactly: `.SQL` is not picked up.
        .filter(|f| {
            f.starts_with("tests/")
                && Path::new(f)
                    .extension()
                    .is_some_and(|e| e == "sql" || e == "pg")
        })
        .collect();
    if tests.is_empty() {
        report.findings.push(
            "tests/: no .sql or .pg file; `supabase test db` would run no pgTAP test".to_owned(),
        );
        return;
    }
    let before = report.findings.len();
    for test in &tests {
        let path = bundle.join(test);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                report
                    .findings
                    .push(format!("{test}: cannot be read ({e})"));
                continue;
            }
        };
        for line in text.lines() {
            let line = line.trim();
            let include = [
                ("\\include_relative ", true),
                ("\\ir ", true),
                ("\\include ", false),
                ("\\i ", false),
            ]
            .into_iter()
            .find_map(|(command, relative)| {
                line.strip_prefix(command).map(|f| (f.trim(), relative))
            });
            let Some((target, relative_to_file)) = include else {
                continue;
            };
            // `\ir` is relative to the file; `\i` to psql's working folder, which the CLI sets
            // to the tests folder it mounts.
            let base = if relative_to_file {
                parent(test)
            } else {
                "tests".to_owned()
            };
            match inside(&join(&base, target)) {
                Some(file) if file.starts_with("tests/") && files.contains(&file) => {}
                _ => report.findings.push(format!(
                    "{test}: `{line}` reaches outside tests/, which is all `supabase test db` \
                     mounts for pg_prove"
                )),
            }
        }
    }
    if report.findings.len() == before {
        report.checked.push(format!(
            "tests/: {} pgTAP files pg_prove picks up ({}), every include inside tests/",
            tests.len(),
            PG_PROVE_FLAGS.join(" ")
        ));
    }
}

/// A Postgres connection as `supabase test db` hands it to `pg_prove`: through libpq's
/// variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`).
#[derive(Debug, Clone)]
pub struct PgConnection {
    /// The host (an address or a name).
    pub host: String,
    /// The port.
    pub port: u16,
    /// The role; `supabase test db` connects as `postgres`, locally and to a linked project.
    pub user: String,
    /// The password, if the server wants one.
    pub password: Option<String>,
    /// The database; `postgres` for the CLI.
    pub database: String,
}

impl PgConnection {
    /// The local database of `supabase start`, as `supabase test db` reaches it from the host:
    /// `127.0.0.1`, the config template's `db.port` 54322, `postgres`/`postgres`
    /// (`internal/utils/flags/db_url.go`, `pkg/config/templates/config.toml`).
    pub fn supabase_local() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 54322,
            user: "postgres".to_owned(),
            password: Some("postgres".to_owned()),
            database: "postgres".to_owned(),
        }
    }
}

/// `pg_prove` over the bundle's tests the way `supabase test db` runs it
/// (`internal/db/test/test.go`): `pg_prove --ext .pg --ext .sql -r <bundle>/tests`, in that
/// folder, connected through libpq's variables.
///
/// Like the CLI, run `create extension if not exists pgtap with schema extensions` on the
/// database first (this bundle's files also create it inside their own transactions). The CLI
/// runs `pg_prove` in a container of its own; `pg_prove` here is the program to run instead.
pub fn pg_prove_command(pg_prove: &Path, bundle: &Path, connection: &PgConnection) -> Command {
    let tests = bundle.join("tests");
    // The working folder is the tests folder, so the path given must not be relative to ours.
    let tests = std::path::absolute(&tests).unwrap_or(tests);
    let mut command = Command::new(pg_prove);
    command
        .args(PG_PROVE_FLAGS)
        .arg(&tests)
        .current_dir(&tests)
        .env("PGHOST", &connection.host)
        .env("PGPORT", connection.port.to_string())
        .env("PGUSER", &connection.user)
        .env("PGDATABASE", &connection.database);
    if let Some(password) = &connection.password {
        command.env("PGPASSWORD", password);
    }
    command
}

/// A command as one shell line, its password left out.
fn shell_line(command: &Command) -> String {
    let quote = |s: &OsStr| {
        let s = s.to_string_lossy();
        if s.is_empty() || s.contains(|c: char| c.is_whitespace() || "'\"$\\`;&|<>()".contains(c)) {
            format!("'{}'", s.replace('\'', r"'\''"))
        } else {
            s.into_owned()
        }
    };
    let mut line = String::new();
    if let Some(dir) = command.get_current_dir() {
        let _ = write!(line, "cd {} && ", quote(dir.as_os_str()));
    }
    for (key, value) in command.get_envs() {
        let Some(value) = value else { continue };
        let value = if key == "PGPASSWORD" {
            "…".to_owned()
        } else {
            quote(value)
        };
        let _ = write!(line, "{}={value} ", key.to_string_lossy());
    }
    line.push_str(&quote(command.get_program()));
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

/// Every file under `bundle`, relative to it with `/` separators.
fn bundle_files(bundle: &Path) -> Result<BTreeSet<String>> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(XtaskError::io("reading", dir))? {
            let entry = entry.map_err(XtaskError::io("reading", dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = join(prefix, &name);
            let path = entry.path();
            // Follows symbolic links, as the CLI's `os` file system does.
            if path.is_dir() {
                walk(&path, &relative, out)?;
            } else if path.is_file() {
                out.insert(relative);
            }
        }
        Ok(())
    }
    let mut files = BTreeSet::new();
    walk(bundle, "", &mut files)?;
    Ok(files)
}

/// `relative` appended to the bundle-relative folder `dir`.
fn join(dir: &str, relative: &str) -> String {
    if dir.is_empty() {
        relative.to_owned()
    } else {
        format!("{dir}/{relative}")
    }
}

/// The folder of a bundle-relative path (`""` for the bundle itself).
fn parent(path: &str) -> String {
    path.rsplit_once('/')
        .map(|(dir, _)| dir.to_owned())
        .unwrap_or_default()
}

/// A bundle-relative path with `.` and `..` resolved (as Go's `filepath.Join` cleans it), or
/// `None` when it is absolute or leaves the bundle.
fn inside(path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Whether a bundle-relative `path` matches `pattern`, a clean bundle-relative glob as Go's
/// `path.Match` reads it, limited to `*` (any run of characters but `/`) and `?` (one
/// character but `/`).
fn glob_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    pattern.len() == path.len()
        && pattern.iter().zip(&path).all(|(p, s)| {
            segment_matches(
                &p.chars().collect::<Vec<_>>(),
                &s.chars().collect::<Vec<_>>(),
            )
        })
}

fn segment_matches(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| segment_matches(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && segment_matches(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && segment_matches(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::build::supabase::{DEFAULT_PG, config_toml};
    use crate::paths::workspace_root;
    use crate::stack::PgMajor;

    const FUNCTION_DIR: &str = "functions/vantage-sync";

    /// A test bundle's folder, removed when done.
    struct TempBundle(PathBuf);

    impl Drop for TempBundle {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A glue module shaped as wasm-bindgen's `--target web` output: a type directive, no
    /// imports, and the default loader's `new URL(…, import.meta.url)`.
    const GLUE: &str = r#"/* @ts-self-types="./vantage_edge_deno.d.ts" */
let wasm;
export class EdgeFunction { constructor(env) { this.env = env; } }
export function initSync(module) { wasm = module; }
async function __wbg_init(module_or_path) {
    if (module_or_path === undefined) {
        module_or_path = new URL('vantage_edge_deno_bg.wasm', import.meta.url);
    }
    const imports = __wbg_get_imports();
    return /\[object ([^\]]+)\]/.exec(String(imports));
}
export { initSync as default };
"#;

    fn temp(name: &str) -> Result<TempBundle> {
        let dir = std::env::temp_dir().join(format!("vantage-check-{}-{name}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(XtaskError::io("removing", &dir))?;
        }
        std::fs::create_dir_all(&dir).map_err(XtaskError::io("creating", &dir))?;
        Ok(TempBundle(dir))
    }

    fn put(bundle: &TempBundle, relative: &str, text: &str) -> Result<()> {
        let path = bundle.0.join(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(XtaskError::io("creating", dir))?;
        }
        std::fs::write(&path, text).map_err(XtaskError::io("writing", &path))
    }

    /// A bundle as `bundle supabase` lays it out: the generator's config, the real `index.ts`
    /// and forward migrations, a glue of the real shape, a stand-in module, one pgTAP file.
    fn good_bundle(name: &str, pg: PgMajor) -> Result<TempBundle> {
        let bundle = temp(name)?;
        let root = workspace_root();
        put(&bundle, "config.toml", &config_toml(pg))?;
        let index = root.join("edge/deno/index.ts");
        put(
            &bundle,
            &format!("{FUNCTION_DIR}/index.ts"),
            &std::fs::read_to_string(&index).map_err(XtaskError::io("reading", &index))?,
        )?;
        put(
            &bundle,
            &format!("{FUNCTION_DIR}/vantage_edge_deno.js"),
            GLUE,
        )?;
        put(
            &bundle,
            &format!("{FUNCTION_DIR}/vantage_edge_deno.d.ts"),
            "export declare function initSync(module: unknown): void;\n",
        )?;
        put(
            &bundle,
            &format!("{FUNCTION_DIR}/vantage_edge_deno_bg.wasm"),
            "\0asm",
        )?;
        let migrations = root.join("migrations");
        for entry in
            std::fs::read_dir(&migrations).map_err(XtaskError::io("reading", &migrations))?
        {
            let path = entry
                .map_err(XtaskError::io("reading", &migrations))?
                .path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if Path::new(&name).extension().is_some_and(|e| e == "sql")
                && !name.ends_with("_rollback.sql")
            {
                put(&bundle, &format!("migrations/{name}"), "SELECT 1;\n")?;
            }
        }
        put(
            &bundle,
            "tests/database/01_schema.sql",
            "BEGIN;\nSELECT plan(1);\nSELECT pass('ok');\nSELECT * FROM finish();\nROLLBACK;\n",
        )?;
        Ok(bundle)
    }

    fn findings_of(bundle: &TempBundle) -> Result<Vec<String>> {
        Ok(inspect(&bundle.0)?.findings)
    }

    fn assert_one_finding(findings: &[String], needle: &str) {
        assert!(
            findings.iter().any(|f| f.contains(needle)),
            "no finding names {needle:?}: {findings:#?}"
        );
    }

    #[test]
    fn the_generators_bundle_passes_for_both_majors() -> Result<()> {
        for pg in [PgMajor::V15, PgMajor::V17] {
            let bundle = good_bundle(&format!("good-{}", pg.number()), pg)?;
            let report = inspect(&bundle.0)?;
            assert_eq!(report.findings, Vec::<String>::new());
            assert!(
                report
                    .checked
                    .iter()
                    .any(|c| c.contains(&format!("db.major_version = {}", pg.number())))
            );
            assert!(check(&bundle.0).is_ok());
        }
        Ok(())
    }

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
    fn bad_migration_names_are_findings() -> Result<()> {
        let bundle = good_bundle("migrations", DEFAULT_PG)?;
        put(&bundle, "migrations/vantage_extra.sql", "SELECT 1;\n")?;
        put(
            &bundle,
            "migrations/20261201000000_extra.SQL",
            "SELECT 1;\n",
        )?;
        put(
            &bundle,
            "migrations/20251105132840_vantage_sync_state_rollback.sql",
            "SELECT 1;\n",
        )?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(&findings, "migrations/vantage_extra.sql: not named");
        assert_one_finding(&findings, "migrations/20261201000000_extra.SQL: not named");
        assert_one_finding(&findings, "a rollback");
        assert_one_finding(&findings, "version 20251105132840 is also");
        Ok(())
    }

    #[test]
    fn migration_names_follow_the_clis_pattern() {
        assert_eq!(
            migration_parts("20251105132840_vantage_sync_state.sql"),
            Some(("20251105132840", "vantage_sync_state"))
        );
        assert_eq!(migration_parts("1_.sql"), Some(("1", "")));
        assert_eq!(migration_parts("_x.sql"), None);
        assert_eq!(migration_parts("2025a_x.sql"), None);
        assert_eq!(migration_parts("20251105132840.sql"), None);
        assert!(is_legacy_init("20211208000000_init.sql"));
        assert!(!is_legacy_init("20211209000000_init.sql"));
        assert!(!is_legacy_init("20251105132840_vantage_sync_state.sql"));
    }

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
    fn remote_bare_and_missing_imports_are_findings() -> Result<()> {
        let bundle = good_bundle("remote-import", DEFAULT_PG)?;
        let glue = format!(
            "import {{ serve }} from \"https://deno.land/std/http/server.ts\";\n\
             import pg from 'npm:pg@8';\n\
             export * from \"jsr:@std/path\";\n\
             import 'lodash';\n\
             const later = await import(\"./missing.js\");\n\
             // import {{ x }} from \"https://example.com/in-a-comment.ts\";\n\
             import json from \"./data.json\" with {{ type: \"json\" }};\n{GLUE}"
        );
        put(
            &bundle,
            &format!("{FUNCTION_DIR}/vantage_edge_deno.js"),
            &glue,
        )?;
        put(&bundle, &format!("{FUNCTION_DIR}/data.json"), "{}")?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(
            &findings,
            "\"https://deno.land/std/http/server.ts\", a remote module",
        );
        assert_one_finding(&findings, "\"npm:pg@8\", a remote module");
        assert_one_finding(&findings, "\"jsr:@std/path\", a remote module");
        assert_one_finding(&findings, "\"lodash\": a bare specifier");
        assert_one_finding(
            &findings,
            "functions/vantage-sync/missing.js is not in the bundle",
        );
        assert!(!findings.iter().any(|f| f.contains("in-a-comment")));
        assert!(!findings.iter().any(|f| f.contains("data.json")));
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

    #[test]
    fn the_real_index_ts_reads_the_module_and_imports_the_glue() -> Result<()> {
        let index = workspace_root().join("edge/deno/index.ts");
        let source = std::fs::read_to_string(&index).map_err(XtaskError::io("reading", &index))?;
        let refs = module_refs(&source);
        assert!(
            refs.imports.iter().any(|i| i == "./vantage_edge_deno.js"),
            "{refs:?}"
        );
        assert!(
            refs.reads
                .iter()
                .any(|r| r == "./vantage_edge_deno_bg.wasm"),
            "{refs:?}"
        );
        let glue = module_refs(GLUE);
        assert_eq!(glue.imports, ["./vantage_edge_deno.d.ts"]);
        assert_eq!(glue.reads, ["vantage_edge_deno_bg.wasm"]);
        Ok(())
    }

    #[test]
    fn includes_outside_tests_are_findings() -> Result<()> {
        let bundle = good_bundle("includes", DEFAULT_PG)?;
        put(
            &bundle,
            "tests/database/02_rollback.sql",
            "BEGIN;\n\\ir ../../migrations/20251105132840_vantage_sync_state.sql\n\\ir helpers.sql\nROLLBACK;\n",
        )?;
        put(&bundle, "tests/database/helpers.sql", "SELECT 1;\n")?;
        let findings = findings_of(&bundle)?;
        assert_one_finding(&findings, "\\ir ../../migrations/");
        assert!(!findings.iter().any(|f| f.contains("helpers.sql")));
        Ok(())
    }

    #[test]
    fn globs_match_as_go_path_match_does() {
        assert!(glob_matches(
            "functions/f/x_bg.wasm",
            "functions/f/x_bg.wasm"
        ));
        assert!(glob_matches("functions/f/*.wasm", "functions/f/x_bg.wasm"));
        assert!(glob_matches(
            "functions/*/x_bg.wasm",
            "functions/f/x_bg.wasm"
        ));
        assert!(glob_matches(
            "functions/f/x_b?.wasm",
            "functions/f/x_bg.wasm"
        ));
        assert!(!glob_matches("functions/*.wasm", "functions/f/x_bg.wasm"));
        assert!(!glob_matches("functions/f/*.js", "functions/f/x_bg.wasm"));
        assert_eq!(
            inside("./functions/f/../f/x").as_deref(),
            Some("functions/f/x")
        );
        assert_eq!(inside("../x"), None);
        assert_eq!(inside("/x"), None);
    }

    #[test]
    fn project_ids_are_sanitized_as_the_cli_does() {
        assert_eq!(sanitized_project_id("vantage-sync"), "vantage-sync");
        assert_eq!(sanitized_project_id("-my project!!x"), "my_project_x");
        assert_eq!(sanitized_project_id(&"a".repeat(50)).len(), 40);
    }

    #[test]
    fn pg_prove_runs_as_supabase_test_db_runs_it() {
        let connection = PgConnection {
            host: "127.0.0.1".to_owned(),
            port: 5433,
            user: "postgres".to_owned(),
            password: None,
            database: "postgres".to_owned(),
        };
        let bundle = Path::new("/work/target/supabase");
        let command = pg_prove_command(Path::new("/usr/bin/pg_prove"), bundle, &connection);
        assert_eq!(command.get_program(), "/usr/bin/pg_prove");
        let args: Vec<&OsStr> = command.get_args().collect();
        assert_eq!(
            args,
            [
                "--ext",
                ".pg",
                "--ext",
                ".sql",
                "-r",
                "/work/target/supabase/tests"
            ]
        );
        assert_eq!(
            command.get_current_dir(),
            Some(Path::new("/work/target/supabase/tests"))
        );
        let envs: Vec<(String, String)> = command
            .get_envs()
            .filter_map(|(k, v)| {
                v.map(|v| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
            })
            .collect();
        let want = [
            ("PGDATABASE", "postgres"),
            ("PGHOST", "127.0.0.1"),
            ("PGPORT", "5433"),
            ("PGUSER", "postgres"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(envs, want);

        let with_password = pg_prove_command(
            Path::new("pg_prove"),
            bundle,
            &PgConnection::supabase_local(),
        );
        let line = shell_line(&with_password);
        assert!(line.contains("PGPASSWORD=…"), "{line}");
        assert!(!line.contains("PGPASSWORD=postgres"), "{line}");
        assert!(line.ends_with("pg_prove --ext .pg --ext .sql -r /work/target/supabase/tests"));
    }
}
