//! The Supabase CLI's config schema, as far as this check models it: every key its config
//! structs declare, with the type each declares, and a TOML table checked against them. The CLI
//! decodes `config.toml` with viper's `UnmarshalExact`, so an unknown key stops every command.

/// What the CLI's config struct declares for a key: the kinds this check needs.
pub(super) enum Kind {
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
pub(super) const CONFIG_KEYS: &[(&str, Kind)] = &[
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

/// Checks the keys of `table` (at `path`, `""` for the top level) against `keys`.
pub(super) fn check_table(
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
             xtask/src/build/supabase_check/schema.rs before the bundle writes it"
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
