//! A TCP proxy on loopback that makes a link slow the way a mobile network is, for the
//! widget benchmark's mobile condition. This kernel has no netem, and Chromium's request-level
//! emulation charges neither connection set-up nor CORS preflights; a proxy in front of each
//! server charges both, because every byte of every request crosses it.
//!
//! The model, per [`Link`]:
//! - each new connection waits one round trip (the TCP handshake) before its first byte is
//!   forwarded; TLS handshakes are not modelled;
//! - every chunk is delayed by half the round trip in its direction;
//! - each direction has one bottleneck shared by every connection of every proxy on the link
//!   (a token bucket with no burst: a chunk is sent once the link has finished sending the
//!   ones before it, at the direction's rate).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};
use tokio::time::{Instant, sleep_until};

use crate::error::{Error, Result};

/// A link's round trip and rates.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// The round trip; each direction is delayed by half of it.
    pub round_trip: Duration,
    /// Bits per second toward the browser.
    pub down_bits: u64,
    /// Bits per second toward the servers.
    pub up_bits: u64,
}

/// Lighthouse's mobile preset ("slow 4G"): 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up.
pub const LIGHTHOUSE_MOBILE: Profile = Profile {
    round_trip: Duration::from_millis(150),
    down_bits: 1_600_000,
    up_bits: 750_000,
};

/// The most a chunk holds: small enough that connections sharing the link take turns.
const CHUNK: usize = 4096;

/// Chunks in flight per direction of a connection before its reader waits.
const IN_FLIGHT: usize = 256;

/// One direction's bottleneck: when it is next free.
#[derive(Debug)]
struct Bottleneck {
    bits_per_second: u64,
    free_at: Mutex<Instant>,
}

impl Bottleneck {
    fn new(bits_per_second: u64) -> Self {
        Self {
            bits_per_second,
            free_at: Mutex::new(Instant::now()),
        }
    }

    /// Reserves the link for `bytes`; when they will have been sent.
    async fn reserve(&self, bytes: usize) -> Instant {
        let nanos = (bytes as u64 * 8).saturating_mul(1_000_000_000) / self.bits_per_second.max(1);
        let mut free_at = self.free_at.lock().await;
        let start = (*free_at).max(Instant::now());
        *free_at = start + Duration::from_nanos(nanos);
        *free_at
    }
}

/// A shaped link shared by every proxy started on it.
#[derive(Debug, Clone)]
pub struct Link {
    profile: Profile,
    down: Arc<Bottleneck>,
    up: Arc<Bottleneck>,
}

impl Link {
    /// A link with `profile`, idle.
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            down: Arc::new(Bottleneck::new(profile.down_bits)),
            up: Arc::new(Bottleneck::new(profile.up_bits)),
        }
    }

    /// Listens on `listen` (loopback) and forwards each connection to `upstream` across the
    /// link, until the runtime stops. Binds before returning, so connections can follow.
    pub async fn proxy(&self, listen: SocketAddr, upstream: SocketAddr) -> Result<()> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| Error::Net {
                what: format!("binding the shaping proxy on {listen}"),
                source,
            })?;
        let link = self.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let link = link.clone();
                tokio::spawn(async move {
                    // A connection the server refuses ends like a reset one: the browser sees it.
                    let _ = link.carry(client, upstream).await;
                });
            }
        });
        Ok(())
    }

    /// One connection: the handshake's round trip, then both directions at once.
    async fn carry(&self, client: TcpStream, upstream: SocketAddr) -> std::io::Result<()> {
        let handshake_done = Instant::now() + self.profile.round_trip;
        let server = TcpStream::connect(upstream).await?;
        client.set_nodelay(true)?;
        server.set_nodelay(true)?;
        sleep_until(handshake_done).await;
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let half = self.profile.round_trip / 2;
        let up = pump(client_read, server_write, Arc::clone(&self.up), half);
        let down = pump(server_read, client_write, Arc::clone(&self.down), half);
        let (up, down) = tokio::join!(up, down);
        up.and(down)
    }
}

/// Carries one direction: each chunk waits for the bottleneck, then arrives `delay` after it
/// was sent; the end of the stream is passed on after the last chunk.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    bottleneck: Arc<Bottleneck>,
    delay: Duration,
) -> std::io::Result<()> {
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(IN_FLIGHT);
    let writer = tokio::spawn(async move {
        while let Some((arrives, chunk)) = rx.recv().await {
            sleep_until(arrives).await;
            to.write_all(&chunk).await?;
        }
        to.shutdown().await
    });
    let mut buffer = vec![0; CHUNK];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let sent = bottleneck.reserve(n).await;
        // The reader waits for the link: a sender cannot run ahead of the bottleneck.
        sleep_until(sent).await;
        if tx.send((sent + delay, buffer[..n].to_vec())).await.is_err() {
            break;
        }
    }
    drop(tx);
    writer
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_bottleneck_serialises_at_its_rate() {
        let bottleneck = Bottleneck::new(8_000); // 1,000 bytes a second
        let start = Instant::now();
        let first = bottleneck.reserve(100).await;
        let second = bottleneck.reserve(100).await;
        assert!(first - start >= Duration::from_millis(100));
        assert_eq!(second - first, Duration::from_millis(100));
    }
}
