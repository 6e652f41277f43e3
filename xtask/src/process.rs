//! Running programs: in the foreground with their output checked, or as detached servers that
//! are tracked by PID so that exactly what was started can be stopped.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::error::{Result, XtaskError};
use crate::paths::target_dir;
use crate::progress::Step;

/// The command line of `cmd`, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// `cargo`, the one that runs xtask (so a pinned toolchain stays pinned), without the
/// variables `cargo run` set for xtask itself ([`RUN_VARIABLES`], `CARGO_PKG_*`): a build
/// script that watches one (ring's watches `CARGO_MANIFEST_DIR`) would see it change and
/// rebuild, and every `cargo xtask up` rebuilt the edge server's TLS stack (about 30 s).
pub fn cargo() -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        if name
            .to_str()
            .is_some_and(|name| name.starts_with("CARGO_PKG_") || RUN_VARIABLES.contains(&name))
        {
            cargo.env_remove(name);
        }
    }
    cargo
}

/// What `cargo run` sets for the program it runs, besides `CARGO_PKG_*` (the Cargo book,
/// "Environment variables Cargo sets for crates").
const RUN_VARIABLES: [&str; 5] = [
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
];

/// The error for a program that could not be started: missing when it is not there, else
/// why it could not run (a folder it may not enter, a file it may not execute).
pub fn spawn_error(cmd: &Command, error: std::io::Error) -> XtaskError {
    if error.kind() == std::io::ErrorKind::NotFound {
        XtaskError::MissingTool {
            tool: cmd.get_program().to_string_lossy().into_owned(),
            hint: "it is not installed or not on PATH; `cargo xtask install` installs the project's tools".into(),
        }
    } else {
        XtaskError::Spawn {
            command: describe(cmd),
            source: error,
        }
    }
}

/// Runs `cmd` with inherited output; fails with the command line if it exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| spawn_error(cmd, e))?;
    if status.success() {
        Ok(())
    } else {
        Err(XtaskError::CommandFailed {
            command: describe(cmd),
            status: status.to_string(),
            detail: String::new(),
        })
    }
}

/// Runs `cmd` capturing its output; on failure the error carries the output's last lines.
pub fn run_captured(cmd: &mut Command) -> Result<String> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| spawn_error(cmd, e))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let all = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    Err(XtaskError::CommandFailed {
        command: describe(cmd),
        status: output.status.to_string(),
        detail: format!("\n{}", last_lines(&all, 15)),
    })
}

/// Runs `cmd`, its output shown as it comes; returns its exit status and what it wrote to
/// stderr, for a caller that decides by the error what to do next.
pub fn run_keeping_stderr(cmd: &mut Command) -> Result<(ExitStatus, String)> {
    use std::io::{BufRead, BufReader, Write};
    let mut child = cmd
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| spawn_error(cmd, e))?;
    let mut kept = String::new();
    if let Some(stderr) = child.stderr.take() {
        let mut shown = std::io::stderr();
        for line in BufReader::new(stderr)
            .lines()
            .map_while(std::result::Result::ok)
        {
            let _ = writeln!(shown, "{line}");
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    let status = child.wait().map_err(|e| spawn_error(cmd, e))?;
    Ok((status, kept))
}

/// The last `n` lines of `text`, indented for display under a message.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..]
        .iter()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Starts `cmd` as a server in its own process group (so a Ctrl-C in the terminal reaches only
/// xtask, which then stops it cleanly), output appended to `log`. Returns its PID.
pub fn spawn_server(cmd: &mut Command, log: &Path) -> Result<u32> {
    let out = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(XtaskError::io("opening", log))?;
    let err = out.try_clone().map_err(XtaskError::io("opening", log))?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| spawn_error(cmd, e))?;
    Ok(child.id())
}

/// Polls `ready` every 100 ms until it holds. Fails, with the end of `log`, when the process
/// `pid` (the `server` being waited for) exits first or `timeout` passes.
pub fn wait_until_ready(
    server: &'static str,
    pid: u32,
    log: &Path,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if !is_alive(pid) || Instant::now() >= deadline {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            return Err(XtaskError::NotReady {
                server,
                seconds: timeout.as_secs(),
                log: log.to_path_buf(),
                tail: format!("\n{}", last_lines(&text, 10)),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether a process with this PID is alive (and not a zombie).
pub fn is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state letter follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Whether `pid` is alive and is the program `name` (its `/proc/PID/comm`): a PID saved long ago
/// may have been reused by an unrelated process, which must never be signalled.
pub fn is_running_as(pid: u32, name: &str) -> bool {
    is_alive(pid)
        && std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim() == name)
}

/// Sends `signal` to the process `pid`, then waits up to `wait` for it to exit. Returns whether
/// it is gone.
pub fn signal_and_wait(pid: u32, signal: Signal, wait: Duration) -> bool {
    if !is_alive(pid) {
        return true;
    }
    if let Ok(pid) = i32::try_from(pid) {
        // It may have exited since the check: then there is nothing to signal.
        let _ = nix::sys::signal::kill(Pid::from_raw(pid), signal);
    }
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !is_alive(pid)
}

/// Stops a server we started: a polite signal first, then a forceful one.
pub fn stop_server(pid: u32, polite: Signal) -> bool {
    signal_and_wait(pid, polite, Duration::from_secs(20))
        || signal_and_wait(pid, Signal::SIGKILL, Duration::from_secs(5))
}

/// Whether xtask runs as root (then Postgres must run as the `postgres` OS user).
pub fn running_as_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// The uid and gid of an OS user, from the system's user database.
pub fn os_user_ids(name: &str) -> Option<(u32, u32)> {
    let user = nix::unistd::User::from_name(name).ok()??;
    Some((user.uid.as_raw(), user.gid.as_raw()))
}

/// Makes `path` executable by everyone (npm does not keep the mode of every packed binary).
pub fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perms = std::fs::metadata(path)
        .map_err(XtaskError::io("reading", path))?
        .permissions();
    if perms.mode() & 0o111 != 0o111 {
        perms.set_mode(perms.mode() | 0o755);
        std::fs::set_permissions(path, perms).map_err(XtaskError::io("chmod", path))?;
    }
    Ok(())
}

/// A free TCP port on 127.0.0.1, chosen by the kernel.
pub fn free_port() -> Result<u16> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(XtaskError::Port)
}

/// Builds `name`, a program of the tests crate (`vantage-sync-tests`: the benchmarks'
/// measuring tools, the static server), in release mode; returns its path.
pub fn build_tests_binary(name: &str) -> Result<PathBuf> {
    let step = Step::start(format!("Building {name} (cargo build --release)"));
    run_captured(cargo().args([
        "build",
        "--quiet",
        "--release",
        "-p",
        "vantage-sync-tests",
        "--bin",
        name,
    ]))?;
    step.done();
    Ok(target_dir().join("release").join(name))
}
