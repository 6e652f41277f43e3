//! `vantage-sync`'s bad input that needs no stack: each gets a sentence and an exit code, and
//! no command runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

fn vantage_sync(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vantage-sync"));
    cmd.env_remove("VANTAGE_SYNC_URL")
        .env_remove("VANTAGE_SYNC_TOKEN")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const SETTINGS: [(&str, &str); 2] = [
    (
        "VANTAGE_SYNC_URL",
        "http://127.0.0.1:9/functions/v1/vantage-sync",
    ),
    ("VANTAGE_SYNC_TOKEN", "t0ken-that-must-not-show"),
];

#[test]
fn unknown_subcommands_and_flags_are_usage_errors() {
    for args in [
        &["frobnicate"][..],
        &["run", "accounts", "--bogus", "--", "true"],
        &[],
    ] {
        let out = vantage_sync(args, &SETTINGS);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("Usage:"), "{}", stderr(&out));
    }
}

#[test]
fn no_command_after_the_double_dash_is_a_usage_error() {
    for args in [&["run", "accounts"][..], &["run", "accounts", "--"]] {
        let out = vantage_sync(args, &SETTINGS);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        assert!(
            stderr(&out).contains("no command to run: put it after --"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn missing_settings_say_which_and_exit_78() {
    let out = vantage_sync(&["run", "accounts", "--", "true"], &[]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).contains("set VANTAGE_SYNC_URL"),
        "{}",
        stderr(&out)
    );
    let out = vantage_sync(&["start", "accounts"], &SETTINGS[..1]);
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).contains("set VANTAGE_SYNC_TOKEN or pass --token-file"),
        "{}",
        stderr(&out)
    );
    let out = vantage_sync(
        &["start", "accounts", "--token-file", "/nonexistent/t"],
        &SETTINGS[..1],
    );
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("/nonexistent/t"), "{}", stderr(&out));
    let out = vantage_sync(
        &["start", "accounts", "--url", "vantage.example"],
        &SETTINGS,
    );
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr(&out).contains("is not a usable URL"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_command_has_an_example_in_its_help() {
    for command in ["run", "start", "progress", "complete", "fail", "health"] {
        let out = vantage_sync(&[command, "--help"], &[]);
        assert_eq!(out.status.code(), Some(0));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Example:\n  vantage-sync") || help.contains("Example:\n  run="),
            "{command}: {help}"
        );
    }
}

#[test]
fn an_unreachable_function_exits_69_without_the_token() {
    let out = vantage_sync(&["start", "accounts", "--retry-for", "1s"], &SETTINGS);
    assert_eq!(out.status.code(), Some(69), "{}", stderr(&out));
    assert!(!stderr(&out).contains("t0ken"), "{}", stderr(&out));
}
