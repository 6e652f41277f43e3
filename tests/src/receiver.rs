//! A webhook receiver on loopback for the tests: a plain HTTP/1.1 server on a thread that
//! records every request it gets and answers with the status the test sets (after an optional
//! delay). It can be stopped and started again on the same port, to play a receiver that is
//! down.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::error::{Error, Result};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

impl Received {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    status: AtomicU16,
    /// The `Location` header of each answer, if any.
    location: Mutex<Option<String>>,
    delay_ms: AtomicU64,
    stop: AtomicBool,
}

/// The receiver.
pub struct Receiver {
    port: u16,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Starts a receiver on `port` (0: any free loopback port) answering 200.
    pub fn start(port: u16) -> Result<Self> {
        let shared = Arc::new(Shared::default());
        shared.status.store(200, Ordering::SeqCst);
        let mut receiver = Self {
            port,
            shared,
            thread: None,
        };
        receiver.resume()?;
        Ok(receiver)
    }

    /// Starts a receiver on a free port below the kernel's ephemeral range (32768 and up on
    /// Linux), for a test that stops it: a port the kernel hands out to `bind(0)` could go to
    /// another test's server while this one is down, and a "down" receiver would answer.
    pub fn start_on_a_reserved_port() -> Result<Self> {
        let port = (20_000..32_000)
            .map(|offset| offset + u16::try_from(std::process::id() % 997).unwrap_or(0))
            .find(|port| TcpListener::bind(("127.0.0.1", *port)).is_ok())
            .ok_or_else(|| Error::Check("no free port from 20000 to 33000".to_owned()))?;
        Self::start(port)
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Answers `status` from now on.
    pub fn answer_with(&self, status: u16) {
        self.shared.status.store(status, Ordering::SeqCst);
    }

    /// Answers `302 Found` with `Location: url` from now on.
    pub fn redirect_to(&self, url: &str) {
        *self
            .shared
            .location
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(url.to_owned());
        self.answer_with(302);
    }

    /// Waits `delay` before each answer from now on.
    pub fn delay_answers(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.delay_ms.store(ms, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `count` requests have arrived, or `patience` has passed; returns them.
    pub fn wait_for(&self, count: usize, patience: Duration) -> Vec<Received> {
        let deadline = Instant::now() + patience;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() >= deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops listening (connections are refused) until [`Receiver::resume`].
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// Listens again on the same port.
    pub fn resume(&mut self) -> Result<()> {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).map_err(|source| Error::Io {
            path: format!("127.0.0.1:{}", self.port).into(),
            source,
        })?;
        self.port = listener
            .local_addr()
            .map_err(|source| Error::Io {
                path: "the receiver's address".into(),
                source,
            })?
            .port();
        self.shared.stop.store(false, Ordering::SeqCst);
        let shared = Arc::clone(&self.shared);
        self.thread = Some(std::thread::spawn(move || serve(&listener, &shared)));
        Ok(())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        if let Ok(stream) = stream {
            // One thread per connection, like a real server: a slow answer holds up no other.
            let shared = Arc::clone(shared);
            std::thread::spawn(move || answer(stream, &shared));
        }
    }
}

fn answer(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    shared
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Received {
            path,
            headers,
            body,
        });
    std::thread::sleep(Duration::from_millis(
        shared.delay_ms.load(Ordering::SeqCst),
    ));
    let status = shared.status.load(Ordering::SeqCst);
    let location = shared
        .location
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .map(|url| format!("location: {url}\r\n"))
        .unwrap_or_default();
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 {status} X\r\n{location}content-length: 0\r\nconnection: close\r\n\r\n"
    )?;
    stream.flush()
}

/// Subscribes `url` to `events` of `resource` alone (so other tests' events stay away) and
/// creates the resource's state row; returns the subscription's id for [`unsubscribe`].
pub fn subscribe(
    db: &Db,
    url: &str,
    events: &[&str],
    resource: &str,
    secret: &str,
) -> Result<String> {
    db.query(
        "INSERT INTO public.vantage_sync_state (resource) VALUES ($1)",
        &[&resource],
    )?;
    let events: Vec<String> = events.iter().map(|e| (*e).to_owned()).collect();
    Ok(db
        .query_one(
            "INSERT INTO public.vantage_sync_webhooks (url, events, resources, secret)
             VALUES ($1, $2, ARRAY[$3], $4) RETURNING webhook_id::text",
            &[&url, &events, &resource, &secret],
        )?
        .try_get(0)?)
}

/// Deletes a subscription (and, with it, its deliveries).
pub fn unsubscribe(db: &Db, webhook_id: &str) -> Result<()> {
    db.query(
        "DELETE FROM public.vantage_sync_webhooks WHERE webhook_id::text = $1",
        &[&webhook_id],
    )?;
    Ok(())
}
