//! A webhook receiver on loopback for the tests: a small axum app, on a thread of its own, that
//! records every request it gets and answers with the status the test sets (after an optional
//! delay). It can be stopped and started again on the same port, to play a receiver that is
//! down. Started with [`Receiver::start_pagerduty`], it plays PagerDuty's Events API v2: it
//! checks each event against PagerDuty's schema ([`events_api`]) and answers as PagerDuty does.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;

use self::events_api::{accepted, invalid, problems, try_later};
use crate::db::Db;
use crate::error::{Error, Result};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request target: the path, or the whole URL when the request came as to a proxy.
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

/// How the receiver answers, as the test last set it.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    location: Option<HeaderValue>,
    delay: Duration,
    /// Play PagerDuty's Events API v2.
    pagerduty: bool,
}

/// What the test and the server share.
struct Shared {
    received: Mutex<Vec<Received>>,
    answer: Mutex<Answer>,
}

/// A server that is listening: the way to stop it, and its thread.
struct Running {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<std::io::Result<()>>,
}

/// The receiver; it stops listening when dropped.
pub struct Receiver {
    port: u16,
    shared: Arc<Shared>,
    running: Option<Running>,
}

impl Receiver {
    /// Starts a receiver on a loopback port the kernel picks, answering 200.
    pub fn start() -> Result<Self> {
        Self::start_on(0)
    }

    /// Starts a receiver that plays PagerDuty's Events API v2: an event that breaks its schema
    /// gets `400` with PagerDuty's `invalid event` body naming the problems; a valid one gets
    /// `202` and `Event processed`, or, when the test set another status, that status with
    /// PagerDuty's body for it (`429`, `5xx`: try later; any other: `invalid event`).
    pub fn start_pagerduty() -> Result<Self> {
        let receiver = Self::start_on(0)?;
        let mut answer = lock(&receiver.shared.answer);
        answer.pagerduty = true;
        answer.status = StatusCode::ACCEPTED;
        drop(answer);
        Ok(receiver)
    }

    /// Starts a receiver on a free port below the kernel's ephemeral range (32768 and up on
    /// Linux), for a test that stops it: a port the kernel hands out to `bind(0)` could go to
    /// another test's server while this one is down, and a "down" receiver would answer.
    pub fn start_on_a_reserved_port() -> Result<Self> {
        // Offset by the PID so that test binaries running side by side try different ports.
        let offset = u16::try_from(std::process::id() % 997).unwrap_or(0);
        (20_000..31_000)
            .find_map(|port| Self::start_on(port + offset).ok())
            .ok_or_else(|| Error::Check("no free loopback port from 20000 to 32000".to_owned()))
    }

    fn start_on(port: u16) -> Result<Self> {
        let mut receiver = Self {
            port,
            shared: Arc::new(Shared {
                received: Mutex::default(),
                answer: Mutex::new(Answer {
                    status: StatusCode::OK,
                    location: None,
                    delay: Duration::ZERO,
                    pagerduty: false,
                }),
            }),
            running: None,
        };
        receiver.resume()?;
        Ok(receiver)
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Answers `status` from now on.
    pub fn answer_with(&self, status: u16) -> Result<()> {
        let status = StatusCode::from_u16(status)
            .map_err(|_| Error::Check(format!("{status} is not an HTTP status")))?;
        lock(&self.shared.answer).status = status;
        Ok(())
    }

    /// Answers `302 Found` with `Location: url` from now on.
    pub fn redirect_to(&self, url: &str) -> Result<()> {
        let location = HeaderValue::from_str(url)
            .map_err(|_| Error::Check(format!("{url:?} cannot be a Location header")))?;
        let mut answer = lock(&self.shared.answer);
        answer.status = StatusCode::FOUND;
        answer.location = Some(location);
        Ok(())
    }

    /// Waits `delay` before each answer from now on.
    pub fn delay_answers(&self, delay: Duration) {
        lock(&self.shared.answer).delay = delay;
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
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

    /// Stops listening (connections are refused) until [`Receiver::resume`]; answers the
    /// requests already in flight first.
    pub fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(());
            // An error of the server's would only say why it stopped early: it is down anyway.
            let _ = running.thread.join();
        }
    }

    /// Listens again on the same port (a no-op while listening).
    pub fn resume(&mut self) -> Result<()> {
        if self.running.is_some() {
            return Ok(());
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))
            .and_then(|listener| {
                // Tokio takes over the socket and needs it non-blocking.
                listener.set_nonblocking(true)?;
                Ok(listener)
            })
            .map_err(Error::io(format!("127.0.0.1:{}", self.port).as_ref()))?;
        self.port = listener
            .local_addr()
            .map_err(Error::io("the receiver's address".as_ref()))?
            .port();
        // The server gets a runtime of its own, on its own thread: the tests are synchronous, and
        // a runtime that the caller's thread drove would panic if stopped in an async context.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let app = Router::new()
            .fallback(record)
            .with_state(Arc::clone(&self.shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            })
        });
        self.running = Some(Running { stop, thread });
        Ok(())
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The one handler, for every method and path (a request made as to a proxy included): records
/// the request, then answers as the test set.
async fn record(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let headers = headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_owned(), value)
        })
        .collect();
    lock(&shared.received).push(Received {
        path: uri.to_string(),
        headers,
        body: body.to_vec(),
    });
    let answer = lock(&shared.answer).clone();
    tokio::time::sleep(answer.delay).await;
    let mut response = if answer.pagerduty {
        pagerduty_answer(answer.status, &body)
    } else {
        answer.status.into_response()
    };
    let response_headers = response.headers_mut();
    if let Some(location) = answer.location {
        response_headers.insert(header::LOCATION, location);
    }
    // One request per connection, as a sender must expect of any receiver: no idle connection
    // then outlives `stop`, and a receiver that was down is reached on a fresh connection.
    response_headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// What PagerDuty answers to `body` (see [`Receiver::start_pagerduty`]), as JSON.
fn pagerduty_answer(status: StatusCode, body: &[u8]) -> Response {
    let problems = problems(body);
    let (status, answer) = if !problems.is_empty() {
        (StatusCode::BAD_REQUEST, invalid(&problems))
    } else if status.is_success() {
        (StatusCode::ACCEPTED, accepted(body))
    } else if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        (status, try_later(status.as_u16()))
    } else {
        let refused = ["the test receiver refuses this event".to_owned()];
        (status, invalid(&refused))
    };
    let json = HeaderValue::from_static("application/json");
    (status, [(header::CONTENT_TYPE, json)], answer.to_string()).into_response()
}

/// The lock's data even if a thread panicked holding it: a list and settings stay consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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

pub mod events_api;
#[cfg(test)]
mod tests;
