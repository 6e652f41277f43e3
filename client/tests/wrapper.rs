//! `vantage-sync` against the real local stack: the wrapper's whole life (start, the command,
//! heartbeats, signals, complete or fail), retries through a proxy the test controls, and 50
//! wrappers at once. `cargo xtask test http` runs them on a fresh test stack; by hand:
//! `cargo xtask up`, then `cargo test -p vantage-sync --test wrapper -- --ignored`.
//!
//! The tests named `progress_…` need the edge's `POST progress` route and `complete` without
//! counts (the server side of issue 25).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

mod support;

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::proxy::Proxy;
use support::{Harness, resource, temp_path, wait_child, wait_for};

const SCRIPT_LIMIT: Duration = Duration::from_secs(90);

fn sh(script: &str) -> Vec<String> {
    vec!["--".into(), "sh".into(), "-c".into(), script.into()]
}

fn run_args<'a>(resource: &'a str, extra: &'a [&'a str], script: &'a [String]) -> Vec<&'a str> {
    let mut args = vec!["run", resource];
    args.extend_from_slice(extra);
    args.extend(script.iter().map(String::as_str));
    args
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn success_with_counts() {
    let h = Harness::load();
    let r = resource("counts");
    let script = sh(
        r#"echo "job $VANTAGE_SYNC_RESOURCE $VANTAGE_SYNC_RUN_ID [$VANTAGE_SYNC_WATERMARK]"
        echo '{"records_synced":150,"records_created":10,"records_updated":140}' > "$VANTAGE_SYNC_REPORT""#,
    );
    let out = h.run(&run_args(&r, &[], &script));
    out.expect_code(0);
    let run = h.only_run(&r);
    assert_eq!(run.status, "success");
    assert_eq!(
        out.stdout.trim(),
        format!("job {r} {} []", run.run_id),
        "stdout passes through"
    );
    let counts = (run.records_synced, run.records_created, run.records_updated);
    assert_eq!(counts, (Some(150), Some(10), Some(140)));
}

#[test]
#[ignore = "needs the local stack and the progress branch (complete without counts)"]
fn progress_success_without_counts_reports_none() {
    let h = Harness::load();
    let r = resource("nocounts");
    h.run(&run_args(&r, &[], &sh("true"))).expect_code(0);
    let run = h.only_run(&r);
    assert_eq!(run.status, "success");
    assert_eq!(run.records_synced, None, "no zeros invented: {run:?}");
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn failure_carries_the_exit_status_and_a_bounded_stderr_tail() {
    let h = Harness::load();
    let r = resource("fails");
    let script = sh("for i in $(seq 1 30); do echo \"line $i\" >&2; done; exit 3");
    let out = h.run(&run_args(&r, &[], &script));
    out.expect_code(3);
    assert!(
        out.stderr.contains("line 1\n") && out.stderr.contains("line 30"),
        "stderr passes through"
    );
    let run = h.only_run(&r);
    assert_eq!(run.status, "failed");
    let error = &run.errors[0];
    assert_eq!(error["code"], "EXIT_STATUS");
    assert_eq!(error["exit_code"], 3);
    assert_eq!(
        error["message"],
        "the command exited with status 3: line 30"
    );
    let tail = error["stderr_tail"].as_str().unwrap();
    assert_eq!(tail.lines().count(), 20, "{tail}");
    assert!(
        tail.starts_with("line 11\n") && tail.ends_with("line 30"),
        "{tail}"
    );
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn a_command_killed_by_sigkill_fails_the_run_with_the_signal() {
    let h = Harness::load();
    let r = resource("sigkill");
    h.run(&run_args(&r, &[], &sh("kill -9 $$")))
        .expect_code(137);
    let run = h.only_run(&r);
    assert_eq!(run.status, "failed");
    assert_eq!(run.errors[0]["message"], "killed by SIGKILL");
    assert_eq!(run.errors[0]["signal"], "SIGKILL");
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn sigterm_to_the_wrapper_is_passed_on_and_fails_the_run() {
    let h = Harness::load();
    let r = resource("sigterm");
    let mark = temp_path("term");
    let ready = temp_path("term-ready");
    let script = sh(
        r#"trap 'echo passed-on > "$MARK"; exit 0' TERM; touch "$READY"; while :; do sleep 0.1; done"#,
    );
    let child = h
        .command()
        .args(run_args(&r, &[], &script))
        .env("MARK", &mark)
        .env("READY", &ready)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(20), || ready.exists()); // the trap is set
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGTERM,
    )
    .unwrap();
    let out = wait_child(child, SCRIPT_LIMIT, &h);
    out.expect_code(143);
    assert_eq!(std::fs::read_to_string(&mark).unwrap().trim(), "passed-on");
    let run = h.only_run(&r);
    assert_eq!(run.status, "failed");
    let message = run.errors[0]["message"].as_str().unwrap();
    assert!(message.starts_with("terminated by SIGTERM"), "{message}");
    let _ = std::fs::remove_file(mark);
    let _ = std::fs::remove_file(ready);
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn a_second_run_while_the_first_runs_exits_75_without_running_the_command() {
    let h = Harness::load();
    let r = resource("busy");
    let first = h
        .command()
        .args(run_args(
            &r,
            &[],
            &sh(r#"sleep 3; echo '{"records_synced":1}' > "$VANTAGE_SYNC_REPORT""#),
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    h.wait_running(&r);
    let mark = temp_path("second");
    let script = sh(&format!("touch {}", mark.display()));
    let second = h.run(&run_args(&r, &[], &script));
    second.expect_code(75);
    assert!(
        second.stderr.contains("already has a run in progress"),
        "{}",
        second.stderr
    );
    assert!(!mark.exists(), "the second command must not run");
    wait_child(first, SCRIPT_LIMIT, &h).expect_code(0);
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn the_watermark_is_the_last_success_started_at() {
    let h = Harness::load();
    let r = resource("watermark");
    let print = sh(
        r#"printf '%s' "$VANTAGE_SYNC_WATERMARK"; echo '{"records_synced":1}' > "$VANTAGE_SYNC_REPORT""#,
    );
    let first = h.run(&run_args(&r, &[], &print));
    first.expect_code(0);
    assert_eq!(first.stdout, "", "a first run syncs everything");
    let second = h.run(&run_args(&r, &[], &print));
    second.expect_code(0);
    let runs = h.runs(&r);
    let db = vantage_sync_tests::Db::connect(&h.stack).unwrap();
    let same: bool = db
        .query_one(
            "SELECT $1::text::timestamptz = $2::text::timestamptz",
            &[&second.stdout, &runs[0].started_at],
        )
        .unwrap()
        .get(0);
    assert!(
        same,
        "watermark {} vs first started_at {}",
        second.stdout, runs[0].started_at
    );
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn the_function_unreachable_mid_run_is_retried_and_recorded_once() {
    let h = Harness::load();
    let r = resource("outage");
    let proxy = Proxy::start(&h.url);
    let done = temp_path("outage-done");
    let script = sh(&format!(
        r#"sleep 1; echo '{{"records_synced":42}}' > "$VANTAGE_SYNC_REPORT"; touch {}"#,
        done.display()
    ));
    let child = h
        .command_at(&proxy.url)
        .args(run_args(
            &r,
            &["--heartbeat", "0", "--retry-for", "60s"],
            &script,
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    h.wait_running(&r);
    proxy.set_down(true);
    wait_for(Duration::from_secs(20), || done.exists());
    std::thread::sleep(Duration::from_secs(3)); // the wrapper retries `complete` meanwhile
    assert_eq!(
        h.only_run(&r).status,
        "running",
        "nothing got through the outage"
    );
    proxy.set_down(false);
    wait_child(child, SCRIPT_LIMIT, &h).expect_code(0);
    let run = h.only_run(&r);
    assert_eq!(
        (run.status.as_str(), run.records_synced),
        ("success", Some(42))
    );
    let _ = std::fs::remove_file(done);
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn a_lost_answer_to_complete_is_a_success_not_a_duplicate() {
    let h = Harness::load();
    let r = resource("lostanswer");
    let proxy = Proxy::start(&h.url);
    proxy.lose_next_complete_answer();
    let script = sh(r#"echo '{"records_synced":7}' > "$VANTAGE_SYNC_REPORT""#);
    let out = h.finish(
        h.command_at(&proxy.url)
            .args(run_args(&r, &["--heartbeat", "0"], &script))
            .output()
            .unwrap(),
    );
    out.expect_code(0);
    assert_eq!(out.stderr, "", "a landed complete is not an error");
    assert!(
        proxy.completes_seen() >= 2,
        "complete was sent again after the lost answer"
    );
    let run = h.only_run(&r);
    assert_eq!(
        (run.status.as_str(), run.records_synced),
        ("success", Some(7))
    );
}

#[test]
#[ignore = "needs the local stack and the progress branch (POST progress)"]
fn progress_heartbeats_keep_a_long_run_alive_and_their_silence_gets_it_swept() {
    let h = Harness::load();
    let r = resource("heartbeat");
    h.sql(&format!(
        "INSERT INTO public.vantage_sync_schedules (resource, stuck_after) VALUES ('{r}', interval '3 seconds')"
    ));
    let script = sh(r#"echo '{"records_synced":5}' > "$VANTAGE_SYNC_REPORT"; sleep 12"#);
    let child = h
        .command()
        .args(run_args(&r, &["--heartbeat", "1s"], &script))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    h.wait_running(&r);
    std::thread::sleep(Duration::from_secs(5)); // past stuck_after, heartbeats every second
    h.sweep();
    assert_eq!(h.only_run(&r).status, "running", "heartbeats keep it alive");
    let wrapper = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(wrapper, Signal::SIGSTOP).unwrap(); // the heartbeats stop; the command goes on
    std::thread::sleep(Duration::from_secs(5));
    h.sweep();
    kill(wrapper, Signal::SIGCONT).unwrap();
    let run = h.only_run(&r);
    assert_eq!(run.status, "failed", "swept as stuck: {run:?}");
    let out = wait_child(child, SCRIPT_LIMIT, &h);
    out.expect_code(0);
    assert!(
        out.stderr.contains("warning"),
        "the refused complete is a warning: {}",
        out.stderr
    );
    assert_eq!(h.runs(&r).len(), 1);
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn fifty_wrappers_on_fifty_resources_lose_and_duplicate_nothing() {
    let h = Harness::load();
    let base = resource("many");
    let children: Vec<_> = (0..50)
        .map(|i| {
            let script = sh(&format!(
                r#"sleep 0.5; echo '{{"records_synced":{i}}}' > "$VANTAGE_SYNC_REPORT""#
            ));
            let name = format!("{base}_{i}");
            let child = h
                .command()
                .args(run_args(&name, &["--heartbeat", "0"], &script))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (name, child)
        })
        .collect();
    for (i, (name, child)) in children.into_iter().enumerate() {
        wait_child(child, SCRIPT_LIMIT, &h).expect_code(0);
        let run = h.only_run(&name);
        assert_eq!(
            (run.status.as_str(), run.records_synced),
            ("success", Some(i32::try_from(i).unwrap()))
        );
    }
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn a_refused_token_exits_78_runs_nothing_and_never_prints_the_token() {
    let h = Harness::load();
    let r = resource("badtoken");
    let mark = temp_path("badtoken");
    let wrong = "vantage-wrong-token-d41d8cd98f00b204";
    let out = h
        .command()
        .env("VANTAGE_SYNC_TOKEN", wrong)
        .args(run_args(&r, &[], &sh(&format!("touch {}", mark.display()))))
        .output()
        .unwrap();
    let out = h.finish(out);
    out.expect_code(78);
    assert!(
        !out.stdout.contains(wrong) && !out.stderr.contains(wrong),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("refused the writer token"),
        "{}",
        out.stderr
    );
    assert!(!mark.exists());
    assert!(h.runs(&r).is_empty());
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn bad_settings_and_names_get_a_sentence_and_change_nothing() {
    let h = Harness::load();
    let r = resource("badinput");
    let mark = temp_path("badinput");
    let touch = sh(&format!("touch {}", mark.display()));
    let rest = format!("{}/rest/v1", h.stack.supabase_url().unwrap());
    let not_function = h.finish(
        h.command_at(&rest)
            .args(run_args(&r, &[], &touch))
            .output()
            .unwrap(),
    );
    not_function.expect_code(78);
    assert!(
        not_function
            .stderr
            .contains("does not answer as the vantage-sync function"),
        "{not_function:?}"
    );
    let refused = h.run(&run_args("Not-A-Name", &[], &touch));
    refused.expect_code(65);
    assert!(
        refused
            .stderr
            .contains("\"resource\" must be a lower-case name"),
        "{refused:?}"
    );
    let closed = format!(
        "http://127.0.0.1:{}/functions/v1/vantage-sync",
        closed_port()
    );
    let unreachable = h.finish(
        h.command_at(&closed)
            .args(run_args(&r, &["--retry-for", "2s"], &touch))
            .output()
            .unwrap(),
    );
    unreachable.expect_code(69);
    assert!(
        unreachable.stderr.contains("could not reach the function"),
        "{unreachable:?}"
    );
    assert!(!mark.exists(), "no command ran");
    assert!(h.runs(&r).is_empty());
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn a_bad_report_is_named_in_a_warning_and_a_failed_run_still_fails() {
    let h = Harness::load();
    for (name, report) in [
        ("notjson", "{oops"),
        ("negative", r#"{"records_synced":-5}"#),
        ("fraction", r#"{"records_synced":1.5}"#),
    ] {
        let r = resource(name);
        let script = sh(&format!(
            "printf '%s' '{report}' > \"$VANTAGE_SYNC_REPORT\"; exit 4"
        ));
        let out = h.run(&run_args(&r, &[], &script));
        out.expect_code(4);
        assert!(
            out.stderr.contains("warning: the report file /") && out.stderr.contains(".json"),
            "{out:?}"
        );
        assert_eq!(h.only_run(&r).status, "failed");
    }
}

#[test]
#[ignore = "needs the local stack and the progress branch (complete without counts)"]
fn progress_a_bad_report_is_named_in_a_warning_and_a_successful_run_still_completes() {
    let h = Harness::load();
    let r = resource("badreport_ok");
    let script = sh(r#"echo '{"records_synced":-1}' > "$VANTAGE_SYNC_REPORT""#);
    let out = h.run(&run_args(&r, &[], &script));
    out.expect_code(0);
    assert!(out.stderr.contains("warning: the report file"), "{out:?}");
    let run = h.only_run(&r);
    assert_eq!((run.status.as_str(), run.records_synced), ("success", None));
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn the_step_commands_report_a_run_and_health_exits_by_colour() {
    let h = Harness::load();
    let r = resource("steps");
    let started = h.run(&["start", &r]);
    started.expect_code(0);
    let answer: serde_json::Value = serde_json::from_str(&started.stdout).unwrap();
    let run_id = answer["run_id"].as_str().unwrap();
    assert!(answer["sync_watermark"].is_null());
    h.run(&["start", &r]).expect_code(75);
    h.run(&[
        "fail",
        &r,
        "--run-id",
        run_id,
        "--code",
        "API_TIMEOUT",
        "--message",
        "Vantage timed out",
    ])
    .expect_code(0);
    let red = h.run(&["health", "--resource", &r]);
    red.expect_code(2);
    assert!(
        red.stdout.contains(&r) && red.stdout.contains("red"),
        "{red:?}"
    );
    let run_id = serde_json::from_str::<serde_json::Value>(&h.run(&["start", &r]).stdout).unwrap()
        ["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    h.run(&["complete", &r, "--run-id", &run_id, "--records-synced", "3"])
        .expect_code(0);
    h.run(&["complete", &r, "--run-id", &run_id, "--records-synced", "3"])
        .expect_code(75);
    h.run(&["health", "--resource", &r]).expect_code(0);
    h.run(&["health", "--resource", "client_no_such_resource"])
        .expect_code(3);
    let runs = h.runs(&r);
    assert_eq!(
        runs.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ["failed", "success"]
    );
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
#[ignore = "needs the local stack: cargo xtask test http"]
fn the_closure_api_finishes_the_run_on_ok_err_and_panic() {
    use vantage_sync::{Client, Counts, Settings, WriterToken};
    let h = Harness::load();
    let r = resource("closure");
    let settings = Settings::new(&h.url, WriterToken::new(&h.token).unwrap()).unwrap();
    let client = Client::new(&settings).unwrap();
    let counts = Counts {
        records_synced: 9,
        records_created: 4,
        records_updated: 5,
    };
    let done = client.run(&r, |run| {
        assert_eq!(run.watermark(), None);
        run.progress(3).unwrap();
        Ok::<_, std::io::Error>(counts)
    });
    assert_eq!(done.unwrap(), counts);
    let err = client.run(&r, |run| {
        assert!(run.watermark().is_some(), "the first run's start");
        Err("Vantage answered 503")
    });
    assert!(
        matches!(err, Err(vantage_sync::Error::JobFailed { .. })),
        "{err:?}"
    );
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client.run(&r, |_| -> Result<Counts, String> {
            panic!("a bug in the job")
        })
    }));
    assert!(panicked.is_err(), "the panic goes on");
    let runs = h.runs(&r);
    let seen: Vec<_> = runs.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(seen, ["success", "failed", "failed"]);
    assert_eq!(runs[0].records_synced, Some(9));
    assert_eq!(runs[1].errors[0]["message"], "Vantage answered 503");
    assert_eq!(runs[2].errors[0]["message"], "panicked: a bug in the job");
}
