//! Layers run one way: within each crate, no module depends on a module that depends back on
//! it, directly or through others; and the widget's modules keep the declared order of its
//! layers ([`WIDGET_LAYERS`], drawn in ARCHITECTURE.md).
//!
//! A module depends on another when its code (tests aside) names a path into it: `crate::a::b`,
//! `super::b`, or a member of a `use crate::a::{b, c}` group. A cycle fails the test with the
//! modules in it and what each uses of the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose modules are checked, relative to the workspace root.
const CRATES: [&str; 9] = [
    "app/src",
    "client/src",
    "dev-files/src",
    "postgrest-dialect/src",
    "xtask/src",
    "edge/core/src",
    "edge/server/src",
    "edge/deno/src",
    "tests/src",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let files = vantage_dev_files::tree::files_under(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    out.extend(
        files
            .into_iter()
            .filter(|path| path.extension().is_some_and(|e| e == "rs")),
    );
}

/// The module path of a file (`stack/mod.rs` → `stack`; `lib.rs` → the root, an empty path).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
        parts.clear();
    }
    parts.join("::")
}

/// The code of a file without its test module (tests may reach anywhere).
fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |at| &text[..at])
}

/// The paths a file names through `crate::` or `super::`, with `use` groups expanded
/// (`crate::a::{b, c::d}` → `a::b`, `a::c::d`), each made absolute from the crate root.
fn named_paths(module: &str, code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for start in ["crate::", "super::"] {
        for (at, _) in code.match_indices(start) {
            // A whole word only (not `my_crate::`).
            if at > 0 && code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[at + start.len()..];
            let base_len = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            let base = rest[..base_len].trim_end_matches(':');
            let prefix = if start == "super::" {
                let mut parent: Vec<&str> = module.split("::").filter(|p| !p.is_empty()).collect();
                parent.pop();
                parent.push(base);
                parent.join("::")
            } else {
                base.to_owned()
            };
            let group = rest[base_len..]
                .strip_prefix('{')
                .and_then(|g| g.split_once('}'))
                .map(|(g, _)| g);
            match group {
                Some(group) => paths.extend(
                    group
                        .split(',')
                        .map(|item| item.split_whitespace().next().unwrap_or(""))
                        .filter(|item| !item.is_empty())
                        .map(|item| {
                            if prefix.is_empty() {
                                item.to_owned()
                            } else {
                                format!("{prefix}::{item}")
                            }
                        }),
                ),
                None => paths.push(prefix),
            }
        }
    }
    paths
}

/// The module a path points into: its longest prefix that is a module.
fn module_named<'a>(path: &str, modules: &'a BTreeSet<String>) -> Option<&'a String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .find_map(|n| modules.get(&parts[..n].join("::")))
}

/// The module graph of a crate: each module and the modules it uses.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let code: BTreeMap<String, String> = files
        .iter()
        .map(|file| {
            let text =
                std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            (module_of(src, file), text)
        })
        .collect();
    let modules: BTreeSet<String> = code.keys().cloned().collect();
    code.iter()
        .map(|(module, text)| {
            let uses = named_paths(module, without_tests(text))
                .iter()
                .filter_map(|path| module_named(path, &modules))
                .filter(|used| *used != module && !used.is_empty())
                .cloned()
                .collect();
            (module.clone(), uses)
        })
        .collect()
}

/// The modules that reach `from` again through the graph, if any.
fn cycle_through(from: &str, graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        target: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let Some(current) = path.last().cloned() else {
            return false;
        };
        for next in graph.get(&current).into_iter().flatten() {
            if next == target {
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(graph, target, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![from.to_owned()];
    let mut seen = BTreeSet::new();
    walk(graph, from, &mut path, &mut seen).then_some(path)
}

#[test]
fn no_module_depends_on_itself_through_others() {
    let mut cycles = Vec::new();
    for krate in CRATES {
        let graph = graph(&workspace_root().join(krate));
        let mut reported = BTreeSet::new();
        for module in graph.keys() {
            if reported.contains(module) {
                continue;
            }
            if let Some(cycle) = cycle_through(module, &graph) {
                reported.extend(cycle.iter().cloned());
                cycles.push(format!("{krate}: {} → {module}", cycle.join(" → ")));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that depend on each other (make one of them the lower layer):\n{}",
        cycles.join("\n")
    );
}

/// The widget's top-level modules, lowest layer first: each may use only those to its left
/// (and its own submodules). The crate root (`lib.rs`, `main.rs`) starts the module and may use
/// any of them.
const WIDGET_LAYERS: [&str; 15] = [
    "model",
    "browser",
    "config",
    "session",
    "http",
    "boot",
    "decode",
    "api",
    "reader",
    "events",
    "actions",
    "components",
    "widget",
    "embed",
    "standalone",
];

/// Where `module` sits in `layers` (by its top-level module).
fn layer_of(module: &str, layers: &[&str]) -> Option<usize> {
    let top = module.split("::").next().unwrap_or(module);
    layers.iter().position(|layer| *layer == top)
}

/// Each module that is in no layer, and each use of a module to the user's right.
fn layer_violations(graph: &BTreeMap<String, BTreeSet<String>>, layers: &[&str]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (module, uses) in graph {
        if module.is_empty() {
            continue;
        }
        let Some(layer) = layer_of(module, layers) else {
            wrong.push(format!("{module} is in no layer"));
            continue;
        };
        for used in uses {
            if layer_of(used, layers).is_none_or(|used_layer| used_layer > layer) {
                wrong.push(format!("{module} uses {used}, which is not to its left"));
            }
        }
    }
    wrong
}

/// The layers as ARCHITECTURE.md draws them: `model ← browser ← …`.
fn drawn(layers: &[&str]) -> String {
    layers.join(" \u{2190} ")
}

#[test]
fn the_widgets_modules_use_only_layers_to_their_left() {
    let graph = graph(&workspace_root().join("app/src"));
    let wrong = layer_violations(&graph, &WIDGET_LAYERS);
    assert!(
        wrong.is_empty(),
        "the widget's layers run {} (xtask/tests/layers.rs, ARCHITECTURE.md):\n{}",
        drawn(&WIDGET_LAYERS),
        wrong.join("\n")
    );
    let architecture = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md"))
        .unwrap_or_else(|e| panic!("ARCHITECTURE.md: {e}"));
    assert!(
        architecture.contains(&drawn(&WIDGET_LAYERS)),
        "ARCHITECTURE.md draws the widget's layers as `{}`",
        drawn(&WIDGET_LAYERS)
    );
}

#[test]
fn a_use_to_the_right_is_found_and_one_to_the_left_is_not() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut uses = |from: &str, to: &[&str]| {
        graph.insert(
            from.to_owned(),
            to.iter().map(|t| (*t).to_owned()).collect(),
        );
    };
    uses("", &["c"]);
    uses("a", &[]);
    uses("b::x", &["a", "b::y"]);
    uses("b::y", &[]);
    uses("c", &["b::x", "a"]);
    assert!(layer_violations(&graph, &["a", "b", "c"]).is_empty());
    assert_eq!(
        layer_violations(&graph, &["a", "c", "b"]),
        ["c uses b::x, which is not to its left"]
    );
    assert_eq!(layer_violations(&graph, &["a", "b"]), ["c is in no layer"]);
}

#[test]
fn a_cycle_is_found_and_a_layering_is_not() {
    let edges = |pairs: &[(&str, &str)]| {
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in pairs {
            graph
                .entry((*from).to_owned())
                .or_default()
                .insert((*to).to_owned());
            graph.entry((*to).to_owned()).or_default();
        }
        graph
    };
    let layered = edges(&[("a", "b"), ("b", "c"), ("a", "c")]);
    assert!(layered.keys().all(|m| cycle_through(m, &layered).is_none()));
    let cyclic = edges(&[("a", "b"), ("b", "c"), ("c", "a")]);
    assert_eq!(
        cycle_through("a", &cyclic),
        Some(vec!["a".into(), "b".into(), "c".into()])
    );
}

#[test]
fn paths_are_read_from_use_groups_and_super() {
    let code = "use crate::stack::{edge::CORS, Stack};\nuse super::table::Tool;\nuse crate::{error, paths};\nlet x = crate::digest::sha(1);";
    assert_eq!(
        named_paths("tools::npm", code),
        [
            "stack::edge::CORS",
            "stack::Stack",
            "error",
            "paths",
            "digest::sha",
            "tools::table::Tool"
        ]
    );
}
