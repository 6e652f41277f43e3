//! The command's stderr: passed on to ours as it is written, and its last lines kept (bounded)
//! for the failure report.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// The most lines of stderr a failure carries.
pub const TAIL_LINES: usize = 20;
/// The most bytes of stderr a failure carries.
pub const TAIL_BYTES: usize = 2048;
/// The most bytes kept while the command runs.
const KEPT_BYTES: usize = 4 * TAIL_BYTES;

/// The end of a stream, at most [`KEPT_BYTES`] of it.
#[derive(Debug, Default, Clone)]
pub struct Tail {
    kept: Vec<u8>,
}

impl Tail {
    /// Adds what was just written.
    pub fn push(&mut self, chunk: &[u8]) {
        self.kept.extend_from_slice(chunk);
        if self.kept.len() > KEPT_BYTES {
            let cut = self.kept.len() - KEPT_BYTES;
            self.kept.drain(..cut);
        }
    }

    /// The last [`TAIL_LINES`] lines, at most [`TAIL_BYTES`] bytes (cut at the front, at a
    /// character boundary, marked with `…`).
    pub fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.kept);
        let lines: Vec<&str> = text.trim_end().lines().collect();
        let last = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
        if last.len() <= TAIL_BYTES {
            return last;
        }
        let mut cut = last.len() - (TAIL_BYTES - '…'.len_utf8());
        while !last.is_char_boundary(cut) {
            cut += 1;
        }
        format!("…{}", &last[cut..])
    }
}

/// A tail shared with the thread that fills it.
pub type SharedTail = Arc<Mutex<Tail>>;

/// Copies `from` to `to` as it comes (each chunk flushed), keeping its tail in `tail`, until
/// `from` ends. Returns when the stream closes.
pub fn pass_through(mut from: impl Read, mut to: impl Write, tail: &SharedTail) {
    let mut buffer = [0u8; 8192];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let chunk = &buffer[..n];
        // The terminal may be gone; the tail is still kept.
        let _ = to.write_all(chunk).and_then(|()| to.flush());
        tail.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(chunk);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_lines() {
        let mut tail = Tail::default();
        for i in 0..100 {
            tail.push(format!("line {i}\n").as_bytes());
        }
        let text = tail.text();
        assert_eq!(text.lines().count(), TAIL_LINES);
        assert!(
            text.starts_with("line 80") && text.ends_with("line 99"),
            "{text}"
        );
    }

    #[test]
    fn the_tail_is_bounded_in_bytes() {
        let mut tail = Tail::default();
        tail.push("é".repeat(10_000).as_bytes());
        let text = tail.text();
        assert!(text.len() <= TAIL_BYTES, "{}", text.len());
        assert!(text.starts_with('…'));
    }

    #[test]
    fn pass_through_copies_everything_and_keeps_the_tail() {
        let tail = SharedTail::default();
        let mut out = Vec::new();
        pass_through(&b"one\ntwo\n"[..], &mut out, &tail);
        assert_eq!(out, b"one\ntwo\n");
        assert_eq!(tail.lock().unwrap().text(), "one\ntwo");
    }
}
