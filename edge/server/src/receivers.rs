//! The HTTP client towards webhook receivers: no redirects, and, unless private receivers are
//! allowed, only public addresses (see `vantage_edge_core::receivers`).
//!
//! The core has already refused URLs whose host is a private address however it is spelled;
//! what is left is names. reqwest asks [`PublicOnly`] for a name's addresses when it
//! connects, so the check holds for the very addresses used: a name that resolves to a private
//! address, now or after its records change (DNS rebinding), is never connected to.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect::Policy;
use vantage_edge_core::receivers::is_public_address;

/// The receivers' client: `timeout` on every call, no redirects (a receiver could redirect to
/// a private address), no proxy from the environment (`HTTP_PROXY` and the like: a proxy
/// would resolve and connect to the receiver's name itself, unchecked), and names resolved
/// by [`PublicOnly`] unless `allow_private`.
pub fn client(timeout: Duration, allow_private: bool) -> Result<reqwest::Client, reqwest::Error> {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(Policy::none())
        .no_proxy();
    if allow_private {
        builder.build()
    } else {
        builder.dns_resolver(Arc::new(PublicOnly)).build()
    }
}

/// Resolves names with the system's resolver and keeps only their public addresses.
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| is_public_address(a.ip()))
                .collect();
            if public.is_empty() {
                let addresses: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
                return Err(NotPublic {
                    host,
                    addresses: addresses.join(", "),
                }
                .into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// A receiver's name resolved to no public address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotPublic {
    host: String,
    addresses: String,
}

impl fmt::Display for NotPublic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the receiver's host {} resolves to no public address ({})",
            self.host, self.addresses
        )
    }
}

impl std::error::Error for NotPublic {}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_for_loopback_resolves_to_no_usable_address() {
        let name: Name = "localhost".parse().expect("a DNS name");
        let Err(error) = PublicOnly.resolve(name).await else {
            panic!("localhost must not resolve to a usable address");
        };
        let refused = error.downcast_ref::<NotPublic>();
        assert!(
            refused
                .is_some_and(|r| r.addresses.contains("127.0.0.1") || r.addresses.contains("::1")),
            "{error}"
        );
    }
}
