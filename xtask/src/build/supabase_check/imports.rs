//! The import graph of a function, walked from its entrypoint as `functions deploy` walks it:
//! each specifier classed (relative, remote, built in, other) and followed when relative, and
//! the files each module reads at run time collected.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::paths::{inside, join, parent};
use super::scan::module_refs;

/// File name endings whose imports are followed (what Deno loads as modules).
const MODULE_ENDINGS: [&str; 6] = [".ts", ".mts", ".tsx", ".js", ".mjs", ".jsx"];

/// Walks the imports from `entrypoint` (bundle-relative); returns the modules reached and the
/// files they read at run time (each with the module that reads it).
pub(super) fn walk_imports(
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

#[cfg(test)]
mod tests {
    use crate::build::supabase::DEFAULT_PG;
    use crate::build::supabase_check::test_bundle::{
        FUNCTION_DIR, GLUE, assert_one_finding, findings_of, good_bundle, put,
    };
    use crate::error::Result;

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
}
