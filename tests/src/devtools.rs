//! Chromium's developer tools through chromedriver, for the widget benchmark: CDP commands
//! (`POST /session/{id}/goog/cdp/execute`), Chrome's own network emulation (what the developer
//! tools and Lighthouse's "devtools" throttling use), and the CDP network events of
//! chromedriver's performance log, tallied into bytes on the wire and requests under way.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::browser::Browser;
use crate::error::{Error, Result};
use crate::shaper::Profile;

/// Runs the CDP command `cmd` with `params` in the session's page; its result.
pub fn cdp(browser: &Browser, cmd: &str, params: &Value) -> Result<Value> {
    browser.post("goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
}

/// The parameters of `Network.emulateNetworkConditions` for `profile`: its round trip as the
/// latency added to each request, its rates in bytes per second.
pub fn conditions(profile: &Profile) -> Value {
    let bytes_per_second = |bits: u64| bits / 8;
    json!({
        "offline": false,
        "latency": u64::try_from(profile.round_trip.as_millis()).unwrap_or(u64::MAX),
        "downloadThroughput": bytes_per_second(profile.down_bits),
        "uploadThroughput": bytes_per_second(profile.up_bits),
    })
}

/// Turns on Chrome's network emulation with `profile` for the session's page (it holds across
/// its navigations).
pub fn emulate_network(browser: &Browser, profile: &Profile) -> Result<()> {
    cdp(browser, "Network.enable", &json!({}))?;
    cdp(
        browser,
        "Network.emulateNetworkConditions",
        &conditions(profile),
    )?;
    Ok(())
}

/// The page's JavaScript heap in use, bytes, after a garbage collection (CDP
/// `Runtime.getHeapUsage`'s `usedSize`; a wasm module's linear memory is not in it).
pub fn heap_usage(browser: &Browser) -> Result<u64> {
    cdp(browser, "HeapProfiler.collectGarbage", &json!({}))?;
    let usage = cdp(browser, "Runtime.getHeapUsage", &json!({}))?;
    usage["usedSize"]
        .as_u64()
        .or_else(|| {
            // Heap sizes are whole numbers of bytes, far below 2^53.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            usage["usedSize"].as_f64().map(|v| v as u64)
        })
        .ok_or_else(|| Error::Check(format!("Runtime.getHeapUsage answered {usage}")))
}

/// The CDP events chromedriver logged since the last call (the log empties as it is read),
/// each as `{ "method": …, "params": … }`. The session must be a
/// [`crate::browser::ChromeDriver::logged_session`].
pub fn performance_log(browser: &Browser) -> Result<Vec<Value>> {
    let entries = browser.post("se/log", json!({ "type": "performance" }))?;
    let entries = entries.as_array().cloned().unwrap_or_default();
    Ok(entries
        .iter()
        .filter_map(|entry| entry["message"].as_str())
        .filter_map(|text| serde_json::from_str::<Value>(text).ok())
        .map(|mut message| message["message"].take())
        .collect())
}

/// The network requests seen in a page's CDP events: bytes on the wire per request
/// (`Network.loadingFinished`'s `encodedDataLength`: headers and body as received, compressed
/// as sent), and the requests that have started but not finished.
#[derive(Debug, Default)]
pub struct NetworkTally {
    urls: HashMap<String, String>,
    pending: HashSet<String>,
    /// Every finished request: its URL and bytes received.
    pub finished: Vec<(String, u64)>,
}

impl NetworkTally {
    /// Counts `events` (from [`performance_log`]); whether any was a network event.
    pub fn absorb(&mut self, events: &[Value]) -> bool {
        let mut any = false;
        for event in events {
            let params = &event["params"];
            let Some(id) = params["requestId"].as_str() else {
                continue;
            };
            match event["method"].as_str().unwrap_or_default() {
                "Network.requestWillBeSent" => {
                    let url = params["request"]["url"].as_str().unwrap_or_default();
                    // A data: URL crosses no network.
                    if !url.starts_with("data:") {
                        self.urls.insert(id.to_owned(), url.to_owned());
                        self.pending.insert(id.to_owned());
                    }
                }
                "Network.loadingFinished" => {
                    if self.pending.remove(id) {
                        // Byte counts are whole numbers, far below 2^53.
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let bytes = params["encodedDataLength"].as_f64().unwrap_or(0.0) as u64;
                        let url = self.urls.get(id).cloned().unwrap_or_default();
                        self.finished.push((url, bytes));
                    }
                }
                "Network.loadingFailed" => {
                    self.pending.remove(id);
                }
                _ => continue,
            }
            any = true;
        }
        any
    }

    /// Requests started and not yet finished.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes received by the finished requests, and how many there were, since `from` (an
    /// index into [`NetworkTally::finished`]), those whose URL contains `part` when given.
    pub fn bytes_since(&self, from: usize, part: Option<&str>) -> (u64, usize) {
        self.finished
            .iter()
            .skip(from)
            .filter(|(url, _)| part.is_none_or(|p| url.contains(p)))
            .fold((0, 0), |(bytes, n), (_, b)| (bytes + b, n + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_counts_once_it_finishes() {
        let mut tally = NetworkTally::default();
        let sent = json!({ "method": "Network.requestWillBeSent",
            "params": { "requestId": "1", "request": { "url": "http://h/rest/v1/x" } } });
        assert!(tally.absorb(&[sent]));
        assert_eq!(tally.pending(), 1);
        let done = json!({ "method": "Network.loadingFinished",
            "params": { "requestId": "1", "encodedDataLength": 1200.0 } });
        tally.absorb(&[done]);
        assert_eq!(tally.pending(), 0);
        assert_eq!(tally.bytes_since(0, Some("/rest/v1/")), (1200, 1));
        assert_eq!(tally.bytes_since(1, None), (0, 0));
    }

    #[test]
    fn lighthouse_mobile_in_devtools_units() {
        let c = conditions(&crate::shaper::LIGHTHOUSE_MOBILE);
        assert_eq!(c["latency"], 150);
        assert_eq!(c["downloadThroughput"], 200_000);
        assert_eq!(c["uploadThroughput"], 93_750);
    }
}
