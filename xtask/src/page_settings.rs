//! The standalone page's settings written into its `index.html`
//! (`<script type="application/json" id="vantage-sync-config">`), so the page's head script
//! starts its first read at once instead of after a round trip for `config.json`. The stack's
//! widget server and `cargo xtask build-widget --settings FILE` write them.

use std::path::Path;

use serde_json::Value;

use crate::error::{Result, XtaskError};

/// The id of the settings element in the widget's `index.html`.
const ELEMENT_ID: &str = "vantage-sync-config";

/// The settings in `file`: a JSON object, as `config.json` holds.
pub fn read_settings(file: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(file).map_err(XtaskError::io("reading", file))?;
    let unreadable = |reason: String| XtaskError::Unreadable {
        path: file.to_path_buf(),
        what: "the page's settings (a JSON object, as config.json holds)",
        reason,
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
    if !value.is_object() {
        return Err(unreadable(format!("it holds {value}, not an object")));
    }
    Ok(value)
}

/// Writes `settings` (a JSON object) into the settings element of `site`'s `index.html`,
/// replacing what was there.
pub fn inline_settings(site: &Path, settings: &Value) -> Result<()> {
    let index = site.join("index.html");
    let html = std::fs::read_to_string(&index).map_err(XtaskError::io("reading", &index))?;
    let page = with_settings(&html, settings).ok_or_else(|| {
        XtaskError::BuildOutput(format!(
            "{} has no <script type=\"application/json\" id=\"{ELEMENT_ID}\"> element to hold \
             the settings; build the widget again (cargo xtask build-widget)",
            index.display()
        ))
    })?;
    std::fs::write(&index, page).map_err(XtaskError::io("writing", &index))
}

/// `html` with `settings` as the content of the settings element; `None` without one. The
/// element's attributes are found whatever their order or quoting (Trunk's minifier changes
/// both).
fn with_settings(html: &str, settings: &Value) -> Option<String> {
    let id_at = html.find(ELEMENT_ID)?;
    let content_start = id_at + html[id_at..].find('>')? + 1;
    let content_end = content_start + html[content_start..].find("</script>")?;
    // `<` only occurs inside JSON strings, where `\u003c` means the same: the page's HTML parser
    // then cannot see a `</script>` in a value.
    let json = settings.to_string().replace('<', "\\u003c");
    Some(format!(
        "{}{json}{}",
        &html[..content_start],
        &html[content_end..]
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fills_the_minified_element_and_replaces_earlier_settings() {
        let page = "<head><script id=vantage-sync-config type=application/json></script><script>x</script>";
        let once =
            with_settings(page, &json!({ "supabase-url": "http://a" })).expect("the element");
        assert_eq!(
            once,
            "<head><script id=vantage-sync-config type=application/json>{\"supabase-url\":\"http://a\"}</script><script>x</script>"
        );
        let twice = with_settings(&once, &json!({ "refresh-seconds": 5 })).expect("the element");
        assert!(
            twice.contains(">{\"refresh-seconds\":5}</script><script>x"),
            "{twice}"
        );
    }

    #[test]
    fn a_value_cannot_close_the_script_element() {
        let page = r#"<script type="application/json" id="vantage-sync-config"></script>"#;
        let filled = with_settings(page, &json!({ "title": "</script><b>" })).expect("the element");
        assert_eq!(filled.matches("</script>").count(), 1, "{filled}");
        let start = filled.find('>').expect("a start tag") + 1;
        let end = filled.rfind("</script>").expect("an end tag");
        let back: Value = serde_json::from_str(&filled[start..end]).expect("reading it back");
        assert_eq!(back["title"], "</script><b>");
    }

    #[test]
    fn a_page_without_the_element_is_none() {
        assert_eq!(with_settings("<html></html>", &json!({})), None);
    }
}
