//! Who the client is: its address, derived once where a request enters (from the TCP peer and
//! the `X-Forwarded-For` hops our own proxies added), and the web server's proof of that address
//! when it calls auth on the visitor's behalf (HMAC-SHA256 with `INTERNAL_SECRET`), so that auth
//! counts a sign-in under the visitor's address and nobody else can choose it.
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The client's address, as derived once at the edge ([`derive_client_address`],
/// part of the services' `shared::http::api_layers`; for auth, a signed address from the web server
/// replaces it). `None` when not even the peer is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// Who the client counts as, for limits: an IPv4 address as it is, an IPv6 address by its
    /// /64 (one subscriber's network, whose addresses a client can rotate through at will),
    /// `unknown` when not even the peer is known.
    pub fn key(&self) -> String {
        match self.0.map(|a| a.to_canonical()) {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(network))
            }
            None => "unknown".to_string(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(derived) = parts.extensions.get::<ClientAddr>() {
            return Ok(*derived);
        }
        // Outside the edge layer nothing in front is trusted: the peer is the client.
        Ok(Self(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// The client's address, from the TCP `peer` and the `X-Forwarded-For` hops in `headers`, behind
/// `trusted_proxies` proxies of ours.
///
/// The chain is the `X-Forwarded-For` hops, left to right, then the peer. Each proxy of ours
/// appends the address it was called from, so the last `trusted_proxies` entries of the chain
/// are our proxies and the one before them is the client: the address our outermost proxy was
/// called from, the rightmost entry that is not one of ours. Everything further left came with
/// the request and is never believed, however it looks. With 0 trusted proxies the peer is the client. A chain shorter than that did not
/// come through all of our proxies (a caller inside the cluster, such as the web server): its
/// peer is the address. So is an unreadable hop in the client's place.
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted_proxies: usize) -> Option<IpAddr> {
    let peer = peer?;
    if trusted_proxies == 0 {
        return Some(peer);
    }
    // Bytes, not `to_str`: a value the client made unreadable must not take the proxies' hops
    // after it out of the count.
    let mut chain: Vec<Option<IpAddr>> =
        headers.get_all("x-forwarded-for").iter().flat_map(|value| value.as_bytes().split(|b| *b == b',')).map(parse_hop).collect();
    chain.push(Some(peer));
    match chain.len().checked_sub(trusted_proxies + 1) {
        Some(client) => chain[client].or(Some(peer)),
        None => Some(peer),
    }
}

/// One `X-Forwarded-For` hop: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop).ok()?.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')).and_then(|h| h.parse::<IpAddr>().ok()))
}

/// Derives the client's address once per request ([`client_address`]) and puts it into the
/// request's extensions, where [`ClientAddr`] (and the web server's server functions) read it.
pub fn derive_client_address(router: Router, trusted_proxies: usize) -> Router {
    router.layer(middleware::from_fn_with_state(trusted_proxies, put_client_address))
}

async fn put_client_address(State(trusted_proxies): State<usize>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let address = client_address(peer, request.headers(), trusted_proxies);
    request.extensions_mut().insert(ClientAddr(address));
    next.run(request).await
}

/// The header the web server names its client's address in when it calls auth.
pub const CLIENT_ADDRESS: &str = "x-client-address";
/// `<unix seconds>.<hex HMAC-SHA256>` of the address and that time, keyed with [`InternalSecret`].
pub const CLIENT_ADDRESS_PROOF: &str = "x-client-address-proof";
/// How old (or how far ahead, for clocks apart) a proof may be.
const PROOF_LIFETIME_SECONDS: u64 = 60;

/// `INTERNAL_SECRET`: shared by the web server and auth only. With it the web server proves that
/// a client address it passes on is the one it derived at its edge, so auth can count a sign-in
/// under the visitor's address instead of the web server's, and nobody else can choose the
/// address auth counts them under.
#[derive(Clone)]
pub struct InternalSecret(Arc<[u8]>);

impl std::fmt::Debug for InternalSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_development() { "InternalSecret(development)" } else { "InternalSecret(..)" })
    }
}

impl InternalSecret {
    /// Shorter secrets are refused.
    pub const MIN_BYTES: usize = 32;
    /// Public, so only for a development run that no other machine reaches.
    pub const DEVELOPMENT: &'static [u8] = b"ticketing development internal secret: loopback only";

    pub fn new(secret: &[u8]) -> Self {
        Self(Arc::from(secret))
    }

    pub fn development() -> Self {
        Self::new(Self::DEVELOPMENT)
    }

    pub fn is_development(&self) -> bool {
        &*self.0 == Self::DEVELOPMENT
    }

    fn mac(&self, address: &str, issued: &str) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).ok()?;
        mac.update(b"ticketing client address v1\n");
        mac.update(address.as_bytes());
        mac.update(b"\n");
        mac.update(issued.as_bytes());
        Some(mac)
    }

    /// The headers that name `address` as the client's to auth, with their proof.
    pub fn client_address_headers(&self, address: IpAddr) -> Vec<(&'static str, String)> {
        self.client_address_headers_at(address, unix_now())
    }

    /// As [`Self::client_address_headers`], issued at `now` (Unix seconds).
    pub fn client_address_headers_at(&self, address: IpAddr, now: u64) -> Vec<(&'static str, String)> {
        let address = address.to_string();
        let issued = now.to_string();
        let Some(mac) = self.mac(&address, &issued) else {
            return Vec::new();
        };
        let tag: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        vec![(CLIENT_ADDRESS, address), (CLIENT_ADDRESS_PROOF, format!("{issued}.{tag}"))]
    }

    /// The address in [`CLIENT_ADDRESS`], if [`CLIENT_ADDRESS_PROOF`] proves this secret signed
    /// it within [`PROOF_LIFETIME_SECONDS`] of `now`; each header exactly once.
    pub fn verified_client_address(&self, headers: &HeaderMap, now: u64) -> Option<IpAddr> {
        let address = single(headers, CLIENT_ADDRESS)?;
        let (issued, tag) = single(headers, CLIENT_ADDRESS_PROOF)?.split_once('.')?;
        let issued_at: u64 = issued.parse().ok()?;
        if now.abs_diff(issued_at) > PROOF_LIFETIME_SECONDS {
            return None;
        }
        let tag = from_hex(tag)?;
        self.mac(address, issued)?.verify_slice(&tag).ok()?;
        address.parse().ok()
    }
}

/// A header's value when it is present exactly once.
fn single<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    value.to_str().ok()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| text.get(at..at + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok())).collect()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Auth only: a request that names its client in [`CLIENT_ADDRESS`] with a valid proof (the web
/// server, for its visitor) is counted under that address; any other keeps the address derived
/// at the edge, and a name without a valid proof is ignored. Apply inside the edge's derivation
/// (`shared::http::api_layers`), so this runs after it.
pub fn accept_signed_client_address(router: Router, secret: InternalSecret) -> Router {
    router.layer(middleware::from_fn_with_state(secret, signed_client_address))
}

async fn signed_client_address(State(secret): State<InternalSecret>, mut request: Request, next: Next) -> Response {
    let named = request.headers().contains_key(CLIENT_ADDRESS) || request.headers().contains_key(CLIENT_ADDRESS_PROOF);
    if named {
        match secret.verified_client_address(request.headers(), unix_now()) {
            Some(address) => {
                request.extensions_mut().insert(ClientAddr(Some(address)));
            }
            None => tracing::warn!(
                "a client address without a valid proof was ignored (forged, stale, or INTERNAL_SECRET differs between the web server and auth)"
            ),
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn an_ipv6_client_counts_as_its_slash_64_and_ipv4_as_itself() {
        let key = |a: &str| ClientAddr(Some(a.parse().unwrap())).key();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("198.51.100.7"), "198.51.100.7");
        assert_eq!(key("::ffff:198.51.100.7"), "198.51.100.7", "an IPv4-mapped address is the IPv4 client");
        assert_eq!(ClientAddr(None).key(), "unknown");
    }

    fn forwarded(hops: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for hop in hops {
            headers.append("x-forwarded-for", HeaderValue::from_str(hop).expect("a header value"));
        }
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_x_forwarded_for_says() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(client_address(Some(ip("198.51.100.7")), &headers, 0), Some(ip("198.51.100.7")));
        assert_eq!(client_address(None, &headers, 0), None);
    }

    #[test]
    fn behind_one_proxy_the_client_is_the_hop_it_appended_never_the_leftmost() {
        let ingress = Some(ip("10.0.0.2"));
        // What the ingress sends on for a client that sent no X-Forwarded-For.
        assert_eq!(client_address(ingress, &forwarded(&["198.51.100.7"]), 1), Some(ip("198.51.100.7")));
        // A client that forged hops: they stay on the left, the ingress's hop is still the last.
        let forged = forwarded(&["1.2.3.4, 5.6.7.8, 198.51.100.7"]);
        assert_eq!(client_address(ingress, &forged, 1), Some(ip("198.51.100.7")));
        // The same with the forged hops in a header line of their own.
        let forged = forwarded(&["1.2.3.4", "198.51.100.7"]);
        assert_eq!(client_address(ingress, &forged, 1), Some(ip("198.51.100.7")));
        // Garbage on the left neither shifts the count nor takes the place.
        let garbage = forwarded(&["not an address,, [::1]:80, 198.51.100.7"]);
        assert_eq!(client_address(ingress, &garbage, 1), Some(ip("198.51.100.7")));
    }

    #[test]
    fn behind_two_proxies_the_client_is_the_second_address_from_the_right() {
        let headers = forwarded(&["1.2.3.4, 198.51.100.7:4711, 10.0.0.9"]);
        assert_eq!(client_address(Some(ip("10.0.0.2")), &headers, 2), Some(ip("198.51.100.7")));
        let v6 = forwarded(&["[2001:db8::1]:443, 10.0.0.9"]);
        assert_eq!(client_address(Some(ip("10.0.0.2")), &v6, 2), Some(ip("2001:db8::1")));
    }

    #[test]
    fn a_chain_shorter_than_the_trusted_proxies_is_taken_at_its_peer() {
        // A caller inside the cluster (the web server calling auth) sends no X-Forwarded-For.
        assert_eq!(client_address(Some(ip("10.0.0.5")), &HeaderMap::new(), 1), Some(ip("10.0.0.5")));
        assert_eq!(client_address(Some(ip("10.0.0.5")), &forwarded(&["1.2.3.4"]), 2), Some(ip("10.0.0.5")));
        // An unreadable hop in the client's place: the peer, not a guess further left.
        assert_eq!(client_address(Some(ip("10.0.0.2")), &forwarded(&["1.2.3.4, unknown"]), 1), Some(ip("10.0.0.2")));
    }

    fn headers_of(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        headers
    }

    #[test]
    fn a_signed_client_address_verifies_with_the_same_secret_only() {
        let secret = InternalSecret::new(&[7; 32]);
        let now = 1_800_000_000;
        let headers = headers_of(&secret.client_address_headers_at(ip("198.51.100.7"), now));
        assert_eq!(secret.verified_client_address(&headers, now), Some(ip("198.51.100.7")));
        assert_eq!(secret.verified_client_address(&headers, now + PROOF_LIFETIME_SECONDS), Some(ip("198.51.100.7")));
        assert_eq!(InternalSecret::new(&[8; 32]).verified_client_address(&headers, now), None, "another secret");
        assert_eq!(InternalSecret::development().verified_client_address(&headers, now), None, "the development secret");
        assert_eq!(secret.verified_client_address(&headers, now + PROOF_LIFETIME_SECONDS + 1), None, "stale");
    }

    #[test]
    fn a_client_address_without_its_own_proof_is_refused() {
        let secret = InternalSecret::new(&[7; 32]);
        let now = 1_800_000_000;
        let signed = secret.client_address_headers_at(ip("198.51.100.7"), now);
        let proof = signed[1].1.clone();
        // The proof of one address does not carry another.
        let swapped = headers_of(&[(CLIENT_ADDRESS, "203.0.113.9".to_string()), (CLIENT_ADDRESS_PROOF, proof.clone())]);
        assert_eq!(secret.verified_client_address(&swapped, now), None);
        // No proof, a malformed one, a moved timestamp, or a second address: refused.
        assert_eq!(secret.verified_client_address(&headers_of(&signed[..1]), now), None);
        let malformed = headers_of(&[(CLIENT_ADDRESS, "198.51.100.7".to_string()), (CLIENT_ADDRESS_PROOF, "zz".to_string())]);
        assert_eq!(secret.verified_client_address(&malformed, now), None);
        let (_, tag) = proof.split_once('.').expect("issued.tag");
        let moved = headers_of(&[(CLIENT_ADDRESS, "198.51.100.7".to_string()), (CLIENT_ADDRESS_PROOF, format!("{}.{tag}", now + 1))]);
        assert_eq!(secret.verified_client_address(&moved, now), None);
        let mut twice = headers_of(&signed);
        twice.append(CLIENT_ADDRESS, HeaderValue::from_static("203.0.113.9"));
        assert_eq!(secret.verified_client_address(&twice, now), None);
    }
}
