//! A TCP proxy on loopback between `vantage-sync` and the stack's gateway, which the test
//! turns off and on, or tells to lose the answer to the next `complete` after it landed.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    down: AtomicBool,
    lose_complete_answers: AtomicU32,
    completes_seen: AtomicU32,
    open: Mutex<Vec<TcpStream>>,
}

/// The proxy; it runs until the test process ends.
pub struct Proxy {
    /// The function's URL through the proxy.
    pub url: String,
    state: Arc<State>,
}

impl Proxy {
    /// A proxy in front of the host and port of `url`; its own URL keeps `url`'s path.
    pub fn start(url: &str) -> Self {
        let rest = url.strip_prefix("http://").expect("an http:// stack URL");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let upstream: SocketAddr = authority.to_socket_addrs().unwrap().next().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if shared.down.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                connect(client, server, &shared);
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}{path}"),
            state,
        }
    }

    /// Turns the proxy off (every connection is cut, new ones closed at once) or back on.
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
        if down {
            for stream in self.state.open.lock().unwrap().drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }

    /// The next `complete` request is passed on, and its answer lost (the connection cut).
    pub fn lose_next_complete_answer(&self) {
        self.state
            .lose_complete_answers
            .fetch_add(1, Ordering::SeqCst);
    }

    /// How many `complete` requests went through.
    pub fn completes_seen(&self) -> u32 {
        self.state.completes_seen.load(Ordering::SeqCst)
    }
}

fn connect(client: TcpStream, server: TcpStream, state: &Arc<State>) {
    {
        let mut open = state.open.lock().unwrap();
        open.push(client.try_clone().unwrap());
        open.push(server.try_clone().unwrap());
    }
    let lose_answer = Arc::new(AtomicBool::new(false));
    let (c_read, s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let (flag, shared) = (Arc::clone(&lose_answer), Arc::clone(state));
    std::thread::spawn(move || {
        pump(c_read, s_write, |chunk| {
            if contains(chunk, b"/complete HTTP/1.1") {
                shared.completes_seen.fetch_add(1, Ordering::SeqCst);
                let lose = shared.lose_complete_answers.fetch_update(
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                    |n| n.checked_sub(1),
                );
                if lose.is_ok() {
                    flag.store(true, Ordering::SeqCst);
                }
            }
            true
        });
    });
    std::thread::spawn(move || {
        pump(server, client.try_clone().unwrap(), |_| {
            !lose_answer.load(Ordering::SeqCst)
        });
        let _ = client.shutdown(Shutdown::Both);
    });
}

/// Copies `from` to `to` while `pass` says so for each chunk; then cuts both.
fn pump(mut from: TcpStream, mut to: TcpStream, mut pass: impl FnMut(&[u8]) -> bool) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if !pass(&buffer[..n]) || to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
