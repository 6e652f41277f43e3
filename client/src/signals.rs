//! SIGINT, SIGTERM and SIGHUP to the wrapper: caught (safely, on a thread of `signal-hook`),
//! remembered, and passed on to the command once it runs.

use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::{Handle, Signals};

use crate::error::{Error, Result};

/// The signals passed on to the command.
pub const FORWARDED: [i32; 3] = [SIGINT, SIGTERM, SIGHUP];

#[derive(Debug, Default)]
struct State {
    child: Option<i32>,
    received: Option<i32>,
}

/// Catches the forwarded signals from its creation until [`Forwarder::close`].
#[derive(Debug)]
pub struct Forwarder {
    state: Arc<Mutex<State>>,
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl Forwarder {
    /// Starts catching SIGINT, SIGTERM and SIGHUP.
    pub fn install() -> Result<Self> {
        let mut signals = Signals::new(FORWARDED)
            .map_err(|e| Error::io("cannot catch SIGINT, SIGTERM and SIGHUP", e))?;
        let handle = signals.handle();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            for signal in signals.forever() {
                let mut state = shared.lock().unwrap_or_else(PoisonError::into_inner);
                state.received.get_or_insert(signal);
                if let (Some(pid), Ok(sig)) = (state.child, Signal::try_from(signal)) {
                    // The command may have just ended: nothing to pass on then.
                    let _ = kill(Pid::from_raw(pid), sig);
                }
            }
        });
        Ok(Self {
            state,
            handle,
            thread: Some(thread),
        })
    }

    /// From now on signals go to process `pid`; `None` once it has ended (and been reaped).
    pub fn set_child(&self, pid: Option<u32>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.child = pid.and_then(|p| i32::try_from(p).ok());
    }

    /// The first signal received, if any.
    pub fn received(&self) -> Option<i32> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .received
    }

    /// Stops catching (the signals' default actions apply again).
    pub fn close(mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A signal's name (`SIGTERM`), or its number when it has none.
pub fn name(signal: i32) -> String {
    Signal::try_from(signal).map_or_else(|_| format!("signal {signal}"), |s| s.as_str().to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn signals_have_names() {
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(9), "SIGKILL");
        assert_eq!(name(200), "signal 200");
    }
}
