//! `cargo xtask bundle supabase`: the project as the Supabase CLI deploys it.
//!
//! Writes `target/supabase/`, a folder laid out like a project's `supabase/` folder:
//!
//! - `config.toml`: the `vantage-sync` function with `verify_jwt = false` (it checks writer
//!   tokens and user JWTs itself) and its wasm module listed as a static file;
//! - `migrations/`: the forward migrations (the `_rollback.sql` files stay in the repository);
//! - `schemas/`: the declarative schema, one file per object, which `schema_paths` names, so
//!   that a team's own `supabase db diff` works on the bundle;
//! - `functions/vantage-sync/`: `index.ts`, the wasm-bindgen glue (`--target web`) and the
//!   module, built from `edge/deno` for speed (and optimized with `wasm-opt -O3` when installed);
//! - `tests/database/`: the pgTAP files that run under `supabase test db`;
//! - `README.md`: how to deploy it, and which pgTAP files only run locally.
//!
//! Deno (`tools::DENO`) type-checks the function as the Supabase CLI's bundler would, then
//! `build/supabase_check/` checks the folder as the Supabase CLI reads it. `--pg 15|17`
//! picks `db.major_version` (default 17, the CLI's default for new projects).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::ValueEnum;

use crate::build::deno_function::DenoFunction;
use crate::build::supabase_check;
use crate::digest::sha256_hex;
use crate::error::{Result, XtaskError};
use crate::paths::{target_dir, workspace_root};
use crate::process::{cargo, run, run_captured};
use crate::progress::Step;
use crate::schema;
use crate::stack::edge::FUNCTION_NAME;
use crate::stack::{PgMajor, StackEnv};
use crate::tools::{self, DENO, WASM_BINDGEN, WASM_OPT};

/// What `cargo xtask bundle` can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// `target/supabase/`: config, migrations, the edge function, pgTAP tests.
    Supabase,
}

/// The Postgres major the bundle's `config.toml` declares (`db.major_version`) unless told
/// otherwise: 17, what new Supabase projects run and the Supabase CLI's default
/// (`major_version = 17` in its `pkg/config/templates/config.toml`).
pub const DEFAULT_PG: PgMajor = PgMajor::V17;

/// The edge crate's wasm file names (wasm-bindgen names them after the crate).
const CRATE: &str = "vantage-edge-deno";
const WASM_STEM: &str = "vantage_edge_deno";

/// pgTAP files that change role attributes (`ALTER ROLE service_role NOBYPASSRLS`), which
/// needs a superuser; on Supabase `postgres` is not one, so they only run locally.
const SUPERUSER_ONLY_TESTS: [&str; 2] = ["06_privileges_rls.sql", "13_new_privileges.sql"];

/// Where `bundle supabase` writes.
pub fn supabase_dir() -> PathBuf {
    target_dir().join("supabase")
}

/// Runs `cargo xtask bundle <target>` for a project on Postgres `pg`; with `test_against`,
/// then runs the edge suite through the bundle under Deno against the stack of that env file.
pub fn run_bundle(target: Target, pg: PgMajor, test_against: Option<&Path>) -> Result<()> {
    match (target, test_against) {
        (Target::Supabase, None) => {
            let out = bundle_supabase_for(pg)?;
            print_summary(&out);
            Ok(())
        }
        (Target::Supabase, Some(stack_env)) => edge_suite_under_deno(stack_env, pg),
    }
}

/// Runs the native edge server's integration suite (`tests/tests/edge_routes.rs`) once more,
/// against the bundled function under Deno: builds the bundle, starts `index.ts` on a free
/// loopback port with the configuration the stack gives its native server (same writer
/// token, keys, JWKS and CORS origins), writes `env.deno` next to `stack_env` with `EDGE_URL`
/// pointing at Deno, runs the suite with `VANTAGE_STACK_ENV` set to it, and stops Deno by PID.
pub fn edge_suite_under_deno(stack_env: &Path, pg: PgMajor) -> Result<()> {
    let out = bundle_supabase_for(pg)?;
    let env = StackEnv::read(stack_env)?;
    let setting = |key: &str| env.require(key).map(str::to_owned);
    let stack_dir = stack_env.parent().unwrap_or_else(|| Path::new("."));
    let script = out.join("functions").join(FUNCTION_NAME).join("index.ts");
    let step = Step::start("Starting the bundled function under Deno");
    let function = match DenoFunction::start(&script, setting, stack_dir.join("deno-edge.log")) {
        Ok(function) => function,
        Err(e) => {
            step.failed();
            return Err(e);
        }
    };
    step.note(format!(
        "{} (log: {})",
        function.base_url,
        function.log.display()
    ));
    let env_deno = stack_dir.join("env.deno");
    let mut deno_env = env.clone();
    deno_env.set("EDGE_URL", function.base_url.clone());
    deno_env.write_to(&env_deno)?;
    let result = run(cargo()
        .args(["test", "-p", "vantage-sync-tests", "--test", "edge_routes"])
        .env("VANTAGE_STACK_ENV", &env_deno));
    let _ = std::fs::remove_file(&env_deno);
    drop(function);
    match &result {
        Ok(()) => step.done(),
        Err(_) => step.failed(),
    }
    result
}

/// Builds `target/supabase/` from scratch for [`DEFAULT_PG`]; returns its path.
pub fn bundle_supabase() -> Result<PathBuf> {
    bundle_supabase_for(DEFAULT_PG)
}

/// Builds `target/supabase/` from scratch for a project on Postgres `pg`; returns its path.
pub fn bundle_supabase_for(pg: PgMajor) -> Result<PathBuf> {
    let root = workspace_root();
    let out = supabase_dir();
    let wasm = build_wasm()?;

    let step = Step::start(format!("Writing {}", out.display()));
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(XtaskError::io("removing", &out))?;
    }
    let function_dir = out.join("functions").join(FUNCTION_NAME);
    create_dir(&function_dir)?;
    copy(
        &root.join("edge/deno/index.ts"),
        &function_dir.join("index.ts"),
    )?;
    for name in [
        format!("{WASM_STEM}.js"),
        format!("{WASM_STEM}.d.ts"),
        format!("{WASM_STEM}_bg.wasm"),
    ] {
        copy(&wasm.join(&name), &function_dir.join(&name))?;
    }
    write(&out.join("config.toml"), &config_toml(pg))?;

    let migrations = forward_migrations(&root.join("migrations"))?;
    create_dir(&out.join("migrations"))?;
    for file in &migrations {
        copy(file, &out.join("migrations").join(file_name(file)))?;
    }
    step.note(format!("migrations/: {} forward files", migrations.len()));

    let schemas = schema::schema_files(&schema::schemas_dir())?;
    create_dir(&out.join("schemas"))?;
    for file in &schemas {
        copy(file, &out.join("schemas").join(file_name(file)))?;
    }
    step.note(format!("schemas/: {} files, one per object", schemas.len()));

    let (database, local_only) = pgtap_files(&root.join("tests").join("pgtap"))?;
    let tests_dir = out.join("tests").join("database");
    create_dir(&tests_dir)?;
    for file in &database {
        let text = std::fs::read_to_string(file).map_err(XtaskError::io("reading", file))?;
        let text = inline_includes(&text, file)?;
        write(&tests_dir.join(file_name(file)), &text)?;
    }
    step.note(format!(
        "tests/database/: {} pgTAP files ({} local-only files left out)",
        database.len(),
        local_only.len()
    ));
    write(
        &out.join("README.md"),
        &readme(&migrations, &database, &local_only),
    )?;
    step.done();

    let deno = tools::path(&DENO)?;
    let step = Step::start("Type-checking the function with Deno (deno check index.ts)");
    run_captured(
        Command::new(&deno)
            .args(["check", "--quiet"])
            .arg(function_dir.join("index.ts"))
            .env("NO_COLOR", "1")
            .env("DENO_NO_UPDATE_CHECK", "1"),
    )?;
    step.done();

    let step = Step::start("Checking the bundle as the Supabase CLI reads it");
    match supabase_check::check(&out) {
        Ok(checked) => {
            for line in checked {
                step.note(line);
            }
            step.done();
        }
        Err(e) => {
            step.failed();
            return Err(e);
        }
    }
    Ok(out)
}

/// Builds the wasm module and its glue into `target/edge-deno/`; returns that folder.
fn build_wasm() -> Result<PathBuf> {
    let step = Step::start(format!(
        "Building {CRATE} for wasm32-unknown-unknown (cargo build --profile edge-wasm)"
    ));
    run_captured(cargo().args([
        "build",
        "--quiet",
        "--profile",
        "edge-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        CRATE,
    ]))?;
    step.done();
    let raw = target_dir()
        .join("wasm32-unknown-unknown")
        .join("edge-wasm")
        .join(format!("{WASM_STEM}.wasm"));

    let out = target_dir().join("edge-deno");
    create_dir(&out)?;
    let wasm_bindgen = tools::path(&WASM_BINDGEN)?;
    let step = Step::start("Generating the JavaScript glue (wasm-bindgen --target web)");
    // `--target web` exports `initSync`, which index.ts feeds with the bundled file. The
    // `deno` target would load the module with fetch(file://...), which Supabase's runtime
    // does not allow.
    run_captured(
        Command::new(&wasm_bindgen)
            .args(["--target", "web", "--out-dir"])
            .arg(&out)
            .arg(&raw),
    )?;
    step.done();

    optimize(
        &tools::path(&WASM_OPT)?,
        &out.join(format!("{WASM_STEM}_bg.wasm")),
    )?;
    Ok(out)
}

/// Runs `wasm-opt -O3` on `module` in place, reusing an earlier result for the same input
/// (`wasm-opt` takes ~15 s, and the input only changes when the Rust code does).
fn optimize(wasm_opt: &Path, module: &Path) -> Result<()> {
    let bytes = std::fs::read(module).map_err(XtaskError::io("reading", module))?;
    let key = sha256_hex(&bytes);
    let cache = target_dir().join("edge-deno-opt-cache");
    let cached = cache.join(format!("{key}.wasm"));
    if cached.exists() {
        println!(
            "==> wasm-opt: input unchanged, reusing {}",
            cached.display()
        );
        return copy(&cached, module);
    }
    let step = Step::start("Optimizing the module for speed (wasm-opt -O3)");
    run_captured(
        Command::new(wasm_opt)
            .arg("-O3")
            .args(["--strip-debug", "--strip-producers"])
            .arg(module)
            .arg("-o")
            .arg(module),
    )?;
    // One cached result is enough: drop older ones.
    if cache.exists() {
        std::fs::remove_dir_all(&cache).map_err(XtaskError::io("removing", &cache))?;
    }
    create_dir(&cache)?;
    copy(module, &cached)?;
    step.done();
    Ok(())
}

/// The Supabase CLI configuration of the bundle, for a project on Postgres `pg`.
pub fn config_toml(pg: PgMajor) -> String {
    format!(
        r#"# Written by `cargo xtask bundle supabase`; edit the generator (xtask/src/build/supabase.rs), not this file.
# Use this folder as a project's supabase/ folder: `supabase --workdir target <command>`.
project_id = "vantage-sync"

[db]
# The project's Postgres major version (`SHOW server_version;`), from `cargo xtask bundle
# supabase --pg 15|17`; 17 (the default) is what new projects run. This repository's tests
# run the migrations and pgTAP files on both.
major_version = {major}

[db.migrations]
# The declarative schema (this repository's schemas/, one file per object, in lexical order):
# `supabase db diff -f <name>` writes a migration from a change there. migrations/ is the history.
schema_paths = ["./schemas/*.sql"]

[functions.{FUNCTION_NAME}]
enabled = true
# The function checks writer tokens (SHA-256, constant time) and Supabase user JWTs itself;
# ETL jobs send a writer token, not a Supabase JWT, so the gateway must let them through.
verify_jwt = false
# index.ts reads the module with Deno.readFileSync: it must be deployed with the function.
static_files = ["./functions/{FUNCTION_NAME}/{WASM_STEM}_bg.wasm"]
"#,
        major = pg.number()
    )
}

/// The forward migrations in `dir`, in order (every `.sql` but `*_rollback.sql`).
fn forward_migrations(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = sql_files(dir)?
        .into_iter()
        .filter(|p| !file_name(p).ends_with("_rollback.sql"))
        .collect();
    files.sort();
    Ok(files)
}

/// The pgTAP files in `dir`: those that run under `supabase test db`, and the local-only ones.
fn pgtap_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = sql_files(dir)?;
    files.sort();
    Ok(files
        .into_iter()
        .partition(|p| !SUPERUSER_ONLY_TESTS.contains(&file_name(p).as_str())))
}

fn sql_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(std::fs::read_dir(dir)
        .map_err(XtaskError::io("reading", dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect())
}

/// Replaces each psql `\ir FILE` line of `text` (a file at `path`) with FILE's contents.
///
/// `supabase test db` copies only the tests folder into its container, so includes relative
/// to the repository (`\ir ../../migrations/..._rollback.sql`) would not resolve there; and the
/// rollback files are not in the bundle's `migrations/` at all.
fn inline_includes(text: &str, path: &Path) -> Result<String> {
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim();
        let include = trimmed
            .strip_prefix("\\ir ")
            .or_else(|| trimmed.strip_prefix("\\include_relative "));
        match include {
            Some(relative) => {
                let relative = relative.trim();
                let file = base.join(relative);
                let included =
                    std::fs::read_to_string(&file).map_err(XtaskError::io("reading", &file))?;
                let _ = writeln!(out, "-- >>> inlined by cargo xtask bundle: \\ir {relative}");
                out.push_str(&included);
                if !included.ends_with('\n') {
                    out.push('\n');
                }
                let _ = writeln!(out, "-- <<< end of {relative}");
            }
            None if trimmed.starts_with('\\') => {
                return Err(XtaskError::BuildOutput(format!(
                    "{}: psql meta-command `{trimmed}` cannot be bundled; only \\ir is inlined",
                    path.display()
                )));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The bundle's README: what is where, how to deploy, which tests run where.
fn readme(migrations: &[PathBuf], database: &[PathBuf], local_only: &[PathBuf]) -> String {
    let list = |files: &[PathBuf]| {
        files.iter().fold(String::new(), |mut list, f| {
            let _ = writeln!(list, "- `{}`", file_name(f));
            list
        })
    };
    format!(
        r#"# vantage-sync for Supabase

Written by `cargo xtask bundle supabase`; rebuild it rather than editing it. This folder is a
project's `supabase/` folder: point the Supabase CLI at its parent (`--workdir target`) or copy
it into your project as `supabase/`.

| path | what |
|---|---|
| `config.toml` | the `{FUNCTION_NAME}` function: `verify_jwt = false` (it checks writer tokens and user JWTs itself), its wasm module as a static file |
| `migrations/` | the forward migrations, applied in order by `supabase db push` |
| `schemas/` | the current definition of every object, one file each (`schema_paths` in `config.toml`): change a file, then `supabase db diff -f <name>` writes the migration |
| `functions/{FUNCTION_NAME}/` | `index.ts`, the wasm-bindgen glue and the module (Rust, `edge/core` + `edge/deno`) |
| `tests/database/` | the pgTAP files that run under `supabase test db` |

## Deploy

```sh
supabase --workdir target link --project-ref <ref>
supabase --workdir target db push
printf %s "$WRITER_TOKEN" | sha256sum     # the hash, never the token, is the secret
supabase --workdir target secrets set VANTAGE_WRITER_TOKEN_SHA256=<hex>
supabase --workdir target functions deploy {FUNCTION_NAME}
```

The platform gives the function `SUPABASE_URL`, its secret keys and the JWKS; the writer-token
hashes are the only secret to set. To rotate a token, set both hashes comma-separated
(`VANTAGE_WRITER_TOKEN_SHA256=<new>,<old>`), move the ETL jobs to the new token, then set the
new hash alone.

## Migrations

{migration_list}
## pgTAP

Run under `supabase test db` (`07_rollback.sql` has its psql `\ir` includes of the rollback
and forward migrations inlined, so it needs no files outside `tests/`):

{database_list}
Local only (they switch `service_role` to `NOBYPASSRLS` and back, which needs a superuser;
Supabase's `postgres` role is not one). `cargo xtask test db` runs them on the local stack:

{local_list}"#,
        migration_list = list(migrations),
        database_list = list(database),
        local_list = list(local_only),
    )
}

fn print_summary(out: &Path) {
    let function_dir = out.join("functions").join(FUNCTION_NAME);
    let module = function_dir.join(format!("{WASM_STEM}_bg.wasm"));
    let size = std::fs::metadata(&module).map_or(0, |m| m.len());
    println!();
    println!("Supabase bundle written to {}:", out.display());
    println!("  config.toml, README.md");
    println!("  migrations/        forward migrations");
    println!("  schemas/           the declarative schema (schema_paths), one file per object");
    println!(
        "  functions/{FUNCTION_NAME}/  index.ts, {WASM_STEM}.js, {WASM_STEM}_bg.wasm ({} KiB)",
        size / 1024
    );
    println!("  tests/database/    pgTAP files for `supabase test db`");
    println!(
        "Deploy: supabase --workdir target db push; supabase --workdir target functions deploy {FUNCTION_NAME}"
    );
    println!(
        "Run it locally: VANTAGE_EDGE_PORT=8000 deno run --allow-net=127.0.0.1 --allow-env --allow-read={} {}",
        function_dir.display(),
        function_dir.join("index.ts").display()
    );
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(XtaskError::io("creating", dir))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(XtaskError::io("copying", from))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(XtaskError::io("writing", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_inlined_relative_to_the_file() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("vantage-bundle-{}", std::process::id()));
        create_dir(&dir.join("sub"))?;
        write(&dir.join("inc.sql"), "SELECT 1;")?;
        let sql_file = dir.join("sub").join("t.sql");
        let inlined = inline_includes("BEGIN;\n\\ir ../inc.sql\nROLLBACK;\n", &sql_file)?;
        std::fs::remove_dir_all(&dir).map_err(XtaskError::io("removing", &dir))?;
        assert_eq!(
            inlined,
            "BEGIN;\n-- >>> inlined by cargo xtask bundle: \\ir ../inc.sql\nSELECT 1;\n-- <<< end of ../inc.sql\nROLLBACK;\n"
        );
        Ok(())
    }

    #[test]
    fn other_meta_commands_are_refused() {
        let result = inline_includes("\\set x 1\n", Path::new("/nonexistent/t.sql"));
        assert!(matches!(result, Err(XtaskError::BuildOutput(m)) if m.contains("\\set x 1")));
    }

    #[test]
    fn the_repository_bundles_every_pgtap_file_but_the_superuser_ones() -> Result<()> {
        let (database, local_only) = pgtap_files(&workspace_root().join("tests").join("pgtap"))?;
        let local: Vec<String> = local_only.iter().map(|p| file_name(p)).collect();
        assert_eq!(local, SUPERUSER_ONLY_TESTS);
        for file in &database {
            let text = std::fs::read_to_string(file).map_err(XtaskError::io("reading", file))?;
            let inlined = inline_includes(&text, file)?;
            assert!(
                !inlined.contains("ALTER ROLE"),
                "{} alters a role: list it in SUPERUSER_ONLY_TESTS",
                file.display()
            );
        }
        Ok(())
    }

    #[test]
    fn rollback_migrations_stay_out() -> Result<()> {
        let files = forward_migrations(&workspace_root().join("migrations"))?;
        assert!(!files.is_empty());
        assert!(files.iter().all(|f| !file_name(f).contains("rollback")));
        Ok(())
    }

    #[test]
    fn config_names_the_function_and_its_module() {
        let config = config_toml(DEFAULT_PG);
        assert!(config.contains("major_version = 17\n"));
        assert!(config_toml(PgMajor::V15).contains("major_version = 15\n"));
        assert!(config.contains("[functions.vantage-sync]"));
        assert!(config.contains("verify_jwt = false"));
        assert!(config.contains("./functions/vantage-sync/vantage_edge_deno_bg.wasm"));
    }
}
