//! Test fixtures only: a bundle laid out as `bundle supabase` writes it, in a temporary folder,
//! and helpers to change its files and look for a finding.

use std::path::{Path, PathBuf};

use super::inspect;
use crate::build::supabase::config_toml;
use crate::error::{Result, XtaskError};
use crate::paths::workspace_root;
use crate::stack::PgMajor;

pub(super) const FUNCTION_DIR: &str = "functions/vantage-sync";

/// A test bundle's folder, removed when done.
pub(super) struct TempBundle(pub(super) PathBuf);

impl Drop for TempBundle {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A glue module shaped as wasm-bindgen's `--target web` output: a type directive, no
/// imports, and the default loader's `new URL(…, import.meta.url)`.
pub(super) const GLUE: &str = r#"/* @ts-self-types="./vantage_edge_deno.d.ts" */
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

pub(super) fn put(bundle: &TempBundle, relative: &str, text: &str) -> Result<()> {
    let path = bundle.0.join(relative);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(XtaskError::io("creating", dir))?;
    }
    std::fs::write(&path, text).map_err(XtaskError::io("writing", &path))
}

/// A bundle as `bundle supabase` lays it out: the generator's config, the real `index.ts`
/// and forward migrations, a glue of the real shape, a stand-in module, one schema file, one
/// pgTAP file.
pub(super) fn good_bundle(name: &str, pg: PgMajor) -> Result<TempBundle> {
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
    for entry in std::fs::read_dir(&migrations).map_err(XtaskError::io("reading", &migrations))? {
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
        "schemas/10_vantage_sync_state.sql",
        "CREATE TABLE public.vantage_sync_state (resource text PRIMARY KEY);\n",
    )?;
    put(
        &bundle,
        "tests/database/01_schema.sql",
        "BEGIN;\nSELECT plan(1);\nSELECT pass('ok');\nSELECT * FROM finish();\nROLLBACK;\n",
    )?;
    Ok(bundle)
}

pub(super) fn findings_of(bundle: &TempBundle) -> Result<Vec<String>> {
    Ok(inspect(&bundle.0)?.findings)
}

pub(super) fn assert_one_finding(findings: &[String], needle: &str) {
    assert!(
        findings.iter().any(|f| f.contains(needle)),
        "no finding names {needle:?}: {findings:#?}"
    );
}
