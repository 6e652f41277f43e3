//! How the command ended, judged: the wrapper's exit code, and the failure to report when the
//! run did not succeed. Pure.

use crate::client::Failure;
use crate::signals::name;

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code.
    Exited(i32),
    /// A signal killed it.
    Killed(i32),
}

impl Ended {
    /// From the status `wait` answered.
    pub fn of(status: std::process::ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => Self::Exited(code),
            (None, Some(signal)) => Self::Killed(signal),
            (None, None) => Self::Exited(1),
        }
    }

    /// The shell's code for it: the exit code, or 128 + the signal.
    pub fn code(self) -> u8 {
        let code = match self {
            Self::Exited(code) => code,
            Self::Killed(signal) => 128 + signal,
        };
        u8::try_from(code.rem_euclid(256)).unwrap_or(1)
    }
}

/// What the wrapper does after the command: its exit code, and the failure if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The wrapper's exit code.
    pub exit_code: u8,
    /// `None`: complete the run; else fail it with this.
    pub failure: Option<Failure>,
}

/// Judges how the command `ended`, given the signal the wrapper passed on to it (if any) and
/// the tail of its stderr.
pub fn judge(ended: Ended, forwarded: Option<i32>, stderr_tail: &str) -> Verdict {
    let how = match ended {
        Ended::Exited(code) => format!("exited with status {code}"),
        Ended::Killed(signal) => format!("was killed by {}", name(signal)),
    };
    let last_line = stderr_tail.lines().last().unwrap_or_default();
    let with_last = |message: String| {
        if last_line.is_empty() {
            message
        } else {
            format!("{message}: {last_line}")
        }
    };
    let (exit_code, failure) = match (ended, forwarded) {
        (Ended::Exited(0), None) => (0, None),
        (_, Some(signal)) => {
            let exit = if ended == Ended::Exited(0) {
                u8::try_from(128 + signal).unwrap_or(1)
            } else {
                ended.code()
            };
            let message = format!(
                "terminated by {}: vantage-sync passed it on to the command, which then {how}",
                name(signal)
            );
            let failure = Failure::new("TERMINATED", message).with("signal", name(signal));
            (exit, Some(failure))
        }
        (Ended::Killed(signal), None) => {
            let message = with_last(format!("killed by {}", name(signal)));
            (
                ended.code(),
                Some(Failure::new("KILLED_BY_SIGNAL", message).with("signal", name(signal))),
            )
        }
        (Ended::Exited(code), None) => {
            let message = with_last(format!("the command {how}"));
            (
                ended.code(),
                Some(Failure::new("EXIT_STATUS", message).with("exit_code", code)),
            )
        }
    };
    let failure = failure.map(|f| {
        if stderr_tail.is_empty() {
            f
        } else {
            f.with("stderr_tail", stderr_tail)
        }
    });
    Verdict { exit_code, failure }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_ending_is_judged() {
        let ok = judge(Ended::Exited(0), None, "warning: slow\n");
        assert_eq!(
            ok,
            Verdict {
                exit_code: 0,
                failure: None
            }
        );

        let failed = judge(Ended::Exited(3), None, "fetching\nAPI_TIMEOUT after 30s");
        assert_eq!(failed.exit_code, 3);
        let f = failed.failure.unwrap();
        assert_eq!(f.code, "EXIT_STATUS");
        assert_eq!(
            f.message,
            "the command exited with status 3: API_TIMEOUT after 30s"
        );
        assert_eq!(f.details["exit_code"], 3);
        assert_eq!(f.details["stderr_tail"], "fetching\nAPI_TIMEOUT after 30s");

        let killed = judge(Ended::Killed(9), None, "");
        assert_eq!(killed.exit_code, 137);
        let f = killed.failure.unwrap();
        assert_eq!(
            (f.code.as_str(), f.message.as_str()),
            ("KILLED_BY_SIGNAL", "killed by SIGKILL")
        );
        assert!(!f.details.contains_key("stderr_tail"));
    }

    #[test]
    fn a_signal_passed_on_fails_the_run_whatever_the_command_did() {
        for (ended, exit) in [
            (Ended::Killed(15), 143),
            (Ended::Exited(0), 143),
            (Ended::Exited(2), 2),
        ] {
            let v = judge(ended, Some(15), "");
            assert_eq!(v.exit_code, exit, "{ended:?}");
            let f = v.failure.unwrap();
            assert!(
                f.message.starts_with("terminated by SIGTERM"),
                "{}",
                f.message
            );
            assert_eq!(f.code, "TERMINATED");
        }
    }
}
