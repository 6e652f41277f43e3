//! The edge's fuzz target (`fuzz/`, libFuzzer through cargo-fuzz) for a bounded time: arbitrary
//! requests through the whole core and its parsers must neither panic nor get a 5xx, nor a
//! success without a credential (the full list in `fuzz/fuzz_targets/edge_request.rs`). Run by
//! `cargo xtask test reliability`.
//!
//! Stable Rust with `--sanitizer none`: Rust is memory-safe, so the fuzzer looks for panics
//! and broken invariants; coverage instrumentation needs no nightly flag. New inputs that
//! widen coverage are kept in `fuzz/corpus/` (not committed); `fuzz/seeds/` holds the start.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Result, XtaskError};
use crate::paths::workspace_root;
use crate::process::{last_lines, spawn_error};
use crate::progress::Step;
use crate::test::figures::{self, Figures};
use crate::tools::{self, CARGO_FUZZ};

/// The target's name.
const TARGET: &str = "edge_request";

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
struct FuzzRun {
    executions: u64,
    seconds: u64,
}

/// Runs the target for `seconds`, records its figures, and fails on a crash, naming the input
/// and the command that replays it.
pub fn run(seconds: u64) -> Result<()> {
    let cargo_fuzz = tools::path(&CARGO_FUZZ)?;
    let dir = workspace_root().join("fuzz");
    let corpus = dir.join("corpus").join(TARGET);
    std::fs::create_dir_all(&corpus).map_err(XtaskError::io("creating", &corpus))?;
    let step = Step::start(format!(
        "cargo fuzz run {TARGET} for {seconds} s (the first build takes about a minute)"
    ));
    let mut cmd = Command::new(&cargo_fuzz);
    cmd.current_dir(&dir)
        .args(["run", TARGET, "--sanitizer", "none"])
        .arg(&corpus)
        .arg(Path::new("seeds").join(TARGET))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"));
    // libFuzzer reports on stderr, in full: both streams are kept, not just a tail.
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(&cmd, e))?;
    let ok = output.status.success();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stats = parse_stats(&output);
    // A failed run that wrote no input is cargo failing (a build error), not a finding: it
    // must not count as a crash in the table.
    let crash = if ok { None } else { crash_artifact(&output) };
    step.note(format!(
        "{} executions in {} s, {} crash",
        stats.executions,
        stats.seconds,
        u8::from(crash.is_some())
    ));
    figures::record(&Figures {
        kind: "bad_input".to_owned(),
        name: format!("cargo fuzz {TARGET} (requests through the edge core)"),
        tried: stats.executions,
        bad: u64::from(crash.is_some()),
        runs_lost: 0,
        detail: format!(
            "{} executions in {} s, no panic, no 5xx, no success without a credential",
            stats.executions, stats.seconds
        ),
    })?;
    if ok {
        step.done();
        return Ok(());
    }
    step.failed();
    Err(XtaskError::Check(match crash {
        Some(artifact) => format!(
            "the fuzzer found a crash, its input is {artifact}; replay it: cd fuzz && {} run {TARGET} --sanitizer none {artifact}\n{}",
            cargo_fuzz.display(),
            last_lines(&output, 30)
        ),
        None => format!(
            "cargo fuzz failed before finding anything (a build error?); see its output:\n{}",
            last_lines(&output, 30)
        ),
    }))
}

/// libFuzzer's last `Done N runs in S second(s)` line.
fn parse_stats(output: &str) -> FuzzRun {
    output
        .lines()
        .rev()
        .find_map(|line| {
            let rest = line.trim().strip_prefix("Done ")?;
            let (runs, rest) = rest.split_once(" runs in ")?;
            let seconds = rest.split_whitespace().next()?;
            Some(FuzzRun {
                executions: runs.trim().parse().ok()?,
                seconds: seconds.parse().ok()?,
            })
        })
        .unwrap_or_default()
}

/// The file libFuzzer wrote the crashing input to (`Test unit written to ./artifacts/...`).
fn crash_artifact(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        line.split_once("Test unit written to ")
            .map(|(_, path)| path.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_s_last_stats_line_and_artifact() {
        let output = "#2 INITED cov: 10\nDone 1375285 runs in 31 second(s)\n";
        assert_eq!(
            parse_stats(output),
            FuzzRun {
                executions: 1_375_285,
                seconds: 31
            }
        );
        assert_eq!(parse_stats("nothing"), FuzzRun::default());
        let crashed = "==1== ERROR: libFuzzer: deadly signal\nTest unit written to fuzz/artifacts/edge_request/crash-ab12\n";
        assert_eq!(
            crash_artifact(crashed).as_deref(),
            Some("fuzz/artifacts/edge_request/crash-ab12")
        );
    }
}
