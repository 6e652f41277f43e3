//! A JavaScript or TypeScript module's references, picked out of its tokens: the specifiers it
//! imports and the files it reads at run time. A small tokenizer, not a parser.

/// What a module refers to: the specifiers it imports and the files it reads at run time.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct ModuleRefs {
    pub(super) imports: Vec<String>,
    pub(super) reads: Vec<String>,
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
pub(super) fn module_refs(source: &str) -> ModuleRefs {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::supabase_check::test_bundle::GLUE;
    use crate::error::{Result, XtaskError};
    use crate::paths::workspace_root;

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
}
