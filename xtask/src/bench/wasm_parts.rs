//! The widget's wasm by part, from twiggy, so that a size regression shows where it came from.
//!
//! The shipped wasm has no function names (Trunk's `wasm-opt -Oz` drops them). This report is
//! of the same release build kept with its names: cargo's output for the widget, through the
//! pinned wasm-bindgen (which keeps the name section) and the pinned `wasm-opt -Oz -g` (the
//! shipped build's optimisation, names kept). Its code and data are the shipped build's within
//! a few per cent; the name section itself is left out of the parts.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::error::{Result, XtaskError};
use crate::paths::{target_dir, workspace_root};
use crate::process::run_captured;
use crate::progress::Step;
use crate::tools::{self, TWIGGY, WASM_BINDGEN, WASM_OPT};

/// The widget crate's binary name, as cargo writes its wasm.
const WIDGET_WASM: &str = "vantage-sync-widget.wasm";

/// The widget crate's name as it starts its functions' paths.
const WIDGET_CRATE: &str = "vantage_sync_widget";

/// One item of `twiggy top --format json`.
#[derive(Debug, Deserialize)]
struct Item {
    name: String,
    shallow_size: u64,
}

/// The part an item's crate belongs to.
fn part_of_crate(krate: &str) -> &'static str {
    match krate {
        "leptos" | "leptos_dom" | "leptos_macro" | "leptos_config" | "leptos_server"
        | "reactive_graph" | "reactive_stores" | "tachys" | "server_fn" | "any_spawner"
        | "throw_error" | "or_poisoned" | "hydration_context" | "oco_ref" | "next_tuple"
        | "send_wrapper" | "slotmap" | "indexmap" | "guardian" | "futures" | "futures_util"
        | "futures_channel" | "futures_core" | "futures_executor" | "pin_project_lite" => {
            "leptos, reactive_graph, tachys (+ futures)"
        }
        "serde" | "serde_json" | "serde_core" | "serde_qs" | "ryu" | "itoa" => "serde",
        "std" | "core" | "alloc" | "hashbrown" | "dlmalloc" | "compiler_builtins" | "__rustc" => {
            "std, core, alloc"
        }
        "wasm_bindgen"
        | "js_sys"
        | "web_sys"
        | "wasm_bindgen_futures"
        | "gloo_net"
        | "gloo_utils"
        | "gloo_timers" => "wasm-bindgen, js-sys, web-sys",
        _ => "other crates",
    }
}

/// The part an item of the wasm belongs to, by its (demangled) name.
fn part_of(name: &str) -> String {
    if name.starts_with("data segment") || name.starts_with("data[") {
        return "data (strings, tables)".to_owned();
    }
    if name.starts_with("import ") || name.starts_with("export ") {
        return part_of_crate("wasm_bindgen").to_owned();
    }
    // `<tachys::view::… as core::…>::build`, `&mut leptos::…`, `dyn core::…`: the first path;
    // `<T as tachys::view::Render>::build`, `<char as core::…>`: the trait's.
    let path = name.trim_start_matches(['<', '&', '*', '(', '[', ' ']);
    let path = path
        .strip_prefix("mut ")
        .or_else(|| path.strip_prefix("dyn "))
        .or_else(|| path.strip_prefix("const "))
        .unwrap_or(path);
    let Some((first, rest)) = path.split_once("::") else {
        // Unnamed code, the element table, the glue's exports.
        return "unnamed (code, tables, exports)".to_owned();
    };
    let krate = first.rsplit(" as ").next().unwrap_or(first);
    // `dlmalloc[e24a27700634d609]`: the standard library's crates carry a hash.
    let krate = krate.split('[').next().unwrap_or(krate);
    if krate == WIDGET_CRATE {
        let module = rest.split(['<', '{', ' ', ':']).next().unwrap_or(rest);
        let src = workspace_root().join("app").join("src");
        // `main.rs` is the binary's crate root, not a module.
        let is_module = module != "main"
            && (src.join(format!("{module}.rs")).exists() || src.join(module).is_dir());
        return match module {
            "components" => "widget: views (components/)".to_owned(),
            "model" => "widget: model/".to_owned(),
            other if is_module => format!("widget: {other}"),
            // A function of `lib.rs` or `main.rs` (`start`, `main`).
            _ => "widget: crate root".to_owned(),
        };
    }
    part_of_crate(krate).to_owned()
}

/// Builds the names-keeping variant of the release build the last Trunk build made; its path.
fn names_kept_wasm(work: &Path) -> Result<PathBuf> {
    let built = target_dir()
        .join("wasm32-unknown-unknown")
        .join("release")
        .join(WIDGET_WASM);
    if !built.exists() {
        return Err(XtaskError::BuildOutput(format!(
            "{} is missing: the widget's release build writes it",
            built.display()
        )));
    }
    let _ = std::fs::remove_dir_all(work);
    run_captured(
        Command::new(tools::path(&WASM_BINDGEN)?)
            .args(["--target", "web", "--out-name", "names", "--out-dir"])
            .arg(work)
            .arg(&built),
    )?;
    let optimised = work.join("names-opt.wasm");
    run_captured(
        Command::new(tools::path(&WASM_OPT)?)
            .arg(work.join("names_bg.wasm"))
            .args(["-Oz", "-g", "-o"])
            .arg(&optimised),
    )?;
    Ok(optimised)
}

/// Prints the wasm's size per part, in KB of code and data (largest first).
pub fn print(shipped_wasm_bytes: u64) -> Result<()> {
    let step =
        Step::start("The wasm by part: a names-keeping variant of the release build, twiggy");
    let wasm = names_kept_wasm(&target_dir().join("bench-wasm-names"))?;
    let out = run_captured(
        Command::new(tools::path(&TWIGGY)?)
            .args(["top", "--format", "json"])
            .arg(&wasm),
    )?;
    step.done();
    let items: Vec<Item> = serde_json::from_str(&out).map_err(|e| XtaskError::NoReport {
        tool: "twiggy",
        output: format!("{e}\n{}", crate::process::last_lines(&out, 5)),
    })?;
    let mut parts: Vec<(String, u64)> = Vec::new();
    let mut names = 0;
    for item in &items {
        // The name section's subsections are what this variant adds; they are not shipped.
        if item.name.ends_with(" subsection") {
            names += item.shallow_size;
            continue;
        }
        let part = part_of(&item.name);
        match parts.iter_mut().find(|(p, _)| *p == part) {
            Some((_, size)) => *size += item.shallow_size,
            None => parts.push((part, item.shallow_size)),
        }
    }
    parts.sort_by_key(|part| std::cmp::Reverse(part.1));
    let total: u64 = parts.iter().map(|(_, size)| size).sum();
    // Sizes are far below 2^52 bytes: the conversions are exact.
    #[allow(clippy::cast_precision_loss)]
    let kb = |b: u64| b as f64 / 1024.0;
    println!(
        "\n  The wasm by part (twiggy; raw KB of code and data, {:.1} KB in all without its {:.1} KB of names; the shipped wasm is {:.1} KB)",
        kb(total),
        kb(names),
        kb(shipped_wasm_bytes)
    );
    for (part, size) in parts {
        #[allow(clippy::cast_precision_loss)]
        let share = 100.0 * size as f64 / total.max(1) as f64;
        println!("    {part:<46} {:>7.1} KB  {share:>4.1}%", kb(size));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_go_to_their_crate_s_part() {
        let cases = [
            (
                "vantage_sync_widget::components::card::HealthCard::h1a2",
                "widget: views (components/)",
            ),
            (
                "vantage_sync_widget::model::time::span::h3",
                "widget: model/",
            ),
            (
                "vantage_sync_widget::api::read_page::{{closure}}::h4",
                "widget: api",
            ),
            (
                "<tachys::html::element::HtmlElement<E,At,Ch> as tachys::view::Render>::build::h5",
                "leptos, reactive_graph, tachys (+ futures)",
            ),
            (
                "core::ptr::drop_in_place<reactive_graph::owner::Owner>::h6",
                "std, core, alloc",
            ),
            ("serde_json::de::Deserializer<R>::parse_any::h7", "serde"),
            (
                "wasm_bindgen::convert::closures::invoke::h8",
                "wasm-bindgen, js-sys, web-sys",
            ),
            (
                "<T as tachys::view::Render>::rebuild::h9",
                "leptos, reactive_graph, tachys (+ futures)",
            ),
            (
                "<dlmalloc[e24a27700634d609]::dlmalloc::Dlmalloc<A>>::malloc",
                "std, core, alloc",
            ),
            (
                "vantage_sync_widget::start::{{closure}}::ha1",
                "widget: crate root",
            ),
            ("data segment \".rodata.1\"", "data (strings, tables)"),
            (
                "import ./names_bg.js __wbg_fetch",
                "wasm-bindgen, js-sys, web-sys",
            ),
            ("code[42]", "unnamed (code, tables, exports)"),
        ];
        for (name, part) in cases {
            assert_eq!(part_of(name), part, "{name}");
        }
    }
}
