//! Running programs: in the foreground with their output checked, or as detached servers that
//! are tracked by PID so that exactly what was started can be stopped.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Result, XtaskError};

/// The command line of `cmd`, for messages.
pub fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

/// Runs `cmd` with inherited output; fails with the command line if it exits non-zero.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| XtaskError::MissingTool {
        tool: describe(cmd),
        hint: e.to_string(),
    })?;
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
        .map_err(|e| XtaskError::MissingTool {
            tool: describe(cmd),
            hint: e.to_string(),
        })?;
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
        .map_err(|e| XtaskError::MissingTool {
            tool: describe(cmd),
            hint: e.to_string(),
        })?;
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

/// Sends `signal` (e.g. "INT", "TERM") to the process `pid`, then waits up to `wait` for it to
/// exit. Returns whether it is gone.
pub fn signal_and_wait(pid: u32, signal: &str, wait: Duration) -> bool {
    if !is_alive(pid) {
        return true;
    }
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
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
pub fn stop_server(pid: u32, polite: &str) -> bool {
    signal_and_wait(pid, polite, Duration::from_secs(20))
        || signal_and_wait(pid, "KILL", Duration::from_secs(5))
}

/// Whether xtask runs as root (then Postgres must run as the `postgres` OS user).
pub fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
    })
}

/// The uid and gid of an OS user, from `/etc/passwd`.
pub fn os_user_ids(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        let uid = fields.nth(1)?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

/// A free TCP port on 127.0.0.1, chosen by the kernel.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| XtaskError::Stack(format!("cannot bind a loopback port: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| XtaskError::Stack(format!("cannot read the bound port: {e}")))?
        .port();
    Ok(port)
}

/// Writes `text` to `path`, readable and writable by the owner only (keys, tokens).
pub fn write_private_file(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(XtaskError::io("creating", path))?;
    file.write_all(text.as_bytes())
        .map_err(XtaskError::io("writing", path))
}
