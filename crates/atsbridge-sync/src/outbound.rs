//! The one way atsbridge calls a URL someone else chose (an attachment's `data_url`, a
//! webhook's URL): http(s) only, no credentials in the URL, the host resolved once and the
//! connection pinned to exactly the addresses that were checked (no second lookup that could
//! answer differently, no proxy), internal addresses refused unless allowed, one deadline over
//! DNS, connect and body, and redirects only as the caller's policy says, each target checked
//! by the same rules.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode};
use url::{Host, Url};

/// What a refused address is called in messages. Never the address itself: a client
/// must not learn what an internal name resolves to.
pub const NOT_PUBLIC: &str = "not a public address";

/// The longest a connection attempt may take, whatever is left of the deadline.
const MAX_CONNECT: Duration = Duration::from_secs(10);

/// What happens to a 3xx answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// It is the answer (a webhook receiver that redirects has not taken the delivery).
    Return,
    /// Up to this many are followed, each target checked like the first URL, all within the
    /// one deadline; one more is an error.
    Follow(usize),
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct OutboundRequest {
    pub method: Method,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
}

impl OutboundRequest {
    pub fn get(url: impl Into<String>) -> Self {
        OutboundRequest {
            method: Method::GET,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
        }
    }

    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        OutboundRequest {
            method: Method::POST,
            url: url.into(),
            headers: HeaderMap::new(),
            body: Some(body),
        }
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }
}

/// Why a request was refused or failed. The messages name the URL as given (or as a
/// redirect named it), never an address it resolved to.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("`{raw}` is not a URL: {why}")]
    NotUrl { raw: String, why: url::ParseError },
    #[error("`{url}` is not an http(s) URL")]
    NotHttp { url: String },
    #[error("`{url}` has no host")]
    NoHost { url: String },
    /// `url` is shown without its credentials.
    #[error("`{url}` carries credentials; credentials in URLs are not supported")]
    Credentials { url: String },
    #[error("`{url}` is {NOT_PUBLIC}")]
    NotPublic { url: String },
    #[error("`{host}` could not be resolved: {why}")]
    Resolve { host: String, why: std::io::Error },
    #[error("`{url}` resolves to no address")]
    NoAddress { url: String },
    /// The deadline passed: while resolving, connecting, waiting or reading the body.
    #[error("timed out")]
    Timeout,
    #[error("could not connect")]
    Connect,
    #[error("`{url}` redirected more than {max} times")]
    TooManyRedirects { url: String, max: usize },
    #[error("`{url}` redirected without a Location")]
    NoLocation { url: String },
    #[error("`{url}` redirected to a bad URL: {why}")]
    BadLocation { url: String, why: url::ParseError },
    #[error("`{url}` is larger than {cap} bytes")]
    TooLarge { url: String, cap: usize },
    #[error("the request could not start: {0}")]
    Client(reqwest::Error),
    #[error("request failed: {0}")]
    Request(reqwest::Error),
}

impl OutboundError {
    fn of(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            OutboundError::Timeout
        } else if e.is_connect() {
            OutboundError::Connect
        } else {
            OutboundError::Request(e)
        }
    }
}

/// A URL that passed the checks, with the addresses its connection is pinned to.
#[derive(Debug, Clone)]
pub struct Target {
    url: Url,
    addrs: Vec<SocketAddr>,
}

impl Target {
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// An answer (2xx or otherwise; a 3xx only under `Redirects::Return`).
#[derive(Debug)]
pub struct OutboundResponse {
    inner: reqwest::Response,
    url: Url,
}

impl OutboundResponse {
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The URL that answered (after redirects).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body, refused as soon as it is known to exceed `cap` bytes: from its declared
    /// length before any of it is read, else while it streams, so a large body is never
    /// held in memory. Still within the request's deadline.
    pub async fn bytes_capped(mut self, cap: usize) -> Result<Vec<u8>, OutboundError> {
        let too_large = |url: &Url| OutboundError::TooLarge {
            url: url.to_string(),
            cap,
        };
        if self.inner.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large(&self.url));
        }
        let mut data = Vec::new();
        while let Some(chunk) = self.inner.chunk().await.map_err(OutboundError::of)? {
            if data.len() + chunk.len() > cap {
                return Err(too_large(&self.url));
            }
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }
}

/// The guarded client. Cheap to build; a reqwest client is built per request because the
/// pinned addresses are per host.
#[derive(Debug, Clone)]
pub struct Outbound {
    allow_private: bool,
    /// A loopback server the module's tests treat as public, so redirects from an allowed
    /// host to a refused one can be tested without a public address.
    #[cfg(test)]
    treated_as_public: Option<SocketAddr>,
}

impl Outbound {
    /// `allow_private`: whether loopback, private and other internal addresses may be called
    /// (tests, or a deployment whose receivers are internal).
    pub fn new(allow_private: bool) -> Self {
        Outbound {
            allow_private,
            #[cfg(test)]
            treated_as_public: None,
        }
    }

    /// Checks `raw` as `send` would before connecting (scheme, host, credentials, the name,
    /// every resolved address), within `deadline`.
    pub async fn check(&self, raw: &str, deadline: Duration) -> Result<Target, OutboundError> {
        let started = Instant::now();
        let url = Url::parse(raw).map_err(|why| OutboundError::NotUrl {
            raw: raw.to_owned(),
            why,
        })?;
        self.target(url, deadline.saturating_sub(started.elapsed()))
            .await
    }

    /// The rules that need no lookup (scheme, host, credentials, `localhost` names): what a
    /// URL must pass to be stored for later calls whose lookups happen then.
    pub fn check_unresolved(&self, raw: &str) -> Result<Url, OutboundError> {
        let url = Url::parse(raw).map_err(|why| OutboundError::NotUrl {
            raw: raw.to_owned(),
            why,
        })?;
        self.check_name(&url)?;
        Ok(url)
    }

    fn check_name(&self, url: &Url) -> Result<(), OutboundError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::NotHttp {
                url: shown(url.as_str()),
            });
        }
        let Some(host) = url.host() else {
            return Err(OutboundError::NoHost {
                url: shown(url.as_str()),
            });
        };
        if !url.username().is_empty() || url.password().is_some() {
            // reqwest would send them as Basic auth to whatever host this is.
            return Err(OutboundError::Credentials {
                url: shown(url.as_str()),
            });
        }
        if !self.allow_private {
            if let Host::Domain(d) = host {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                // Resolvers answer these from /etc/hosts or not at all; refused by name so the
                // answer does not depend on the machine (RFC 6761).
                if d == "localhost" || d.ends_with(".localhost") {
                    return Err(OutboundError::NotPublic {
                        url: url.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Sends `request`, following redirects as `redirects` says, all within `deadline`.
    pub async fn send(
        &self,
        request: OutboundRequest,
        deadline: Duration,
        redirects: Redirects,
    ) -> Result<OutboundResponse, OutboundError> {
        let started = Instant::now();
        let left = || deadline.saturating_sub(started.elapsed());
        let OutboundRequest {
            mut method,
            url: raw,
            mut headers,
            mut body,
        } = request;
        let mut url = Url::parse(&raw).map_err(|why| OutboundError::NotUrl {
            raw: raw.clone(),
            why,
        })?;
        let mut followed = 0;
        loop {
            let target = self.target(url, left()).await?;
            let response = call(&target, &method, &headers, body.as_deref(), left()).await?;
            let status = response.status();
            let followable = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
            let max = match redirects {
                Redirects::Follow(max) if followable => max,
                _ => {
                    return Ok(OutboundResponse {
                        inner: response,
                        url: target.url,
                    })
                }
            };
            if followed == max {
                return Err(OutboundError::TooManyRedirects {
                    url: shown(&raw),
                    max,
                });
            }
            followed += 1;
            let from = target.url;
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| OutboundError::NoLocation {
                    url: from.to_string(),
                })?;
            url = from
                .join(location)
                .map_err(|why| OutboundError::BadLocation {
                    url: from.to_string(),
                    why,
                })?;
            // What browsers do: 303 (and 301/302 after a POST) continue as a GET without the
            // body; 307/308 repeat the request.
            if status == StatusCode::SEE_OTHER
                || (matches!(status.as_u16(), 301 | 302) && method == Method::POST)
            {
                method = Method::GET;
                body = None;
            }
            // Headers the caller meant for one server are not handed to another.
            if url.origin() != from.origin() {
                headers.clear();
            }
        }
    }

    /// `url` checked and resolved, within `left`.
    async fn target(&self, url: Url, left: Duration) -> Result<Target, OutboundError> {
        self.check_name(&url)?;
        let Some(host) = url.host() else {
            return Err(OutboundError::NoHost {
                url: shown(url.as_str()),
            });
        };
        let not_public = || OutboundError::NotPublic {
            url: url.to_string(),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let addrs: Vec<SocketAddr> = match host {
            Host::Ipv4(ip) => vec![SocketAddr::new(ip.into(), port)],
            Host::Ipv6(ip) => vec![SocketAddr::new(ip.into(), port)],
            Host::Domain(d) => tokio::time::timeout(left, tokio::net::lookup_host((d, port)))
                .await
                .map_err(|_| OutboundError::Timeout)?
                .map_err(|why| OutboundError::Resolve {
                    host: d.to_owned(),
                    why,
                })?
                .collect(),
        };
        if addrs.is_empty() {
            return Err(OutboundError::NoAddress {
                url: url.to_string(),
            });
        }
        if !self.allow_private && addrs.iter().any(|a| self.refused(*a)) {
            return Err(not_public());
        }
        Ok(Target { url, addrs })
    }

    fn refused(&self, addr: SocketAddr) -> bool {
        #[cfg(test)]
        if self.treated_as_public == Some(addr) {
            return false;
        }
        is_internal(addr.ip())
    }
}

/// One request to `target`, connected only to its checked addresses.
async fn call(
    target: &Target,
    method: &Method,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    left: Duration,
) -> Result<reqwest::Response, OutboundError> {
    if left.is_zero() {
        return Err(OutboundError::Timeout);
    }
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        // reqwest's timeout runs until the body is read, so it is the rest of the deadline.
        .timeout(left)
        .connect_timeout(left.min(MAX_CONNECT));
    if let Some(Host::Domain(d)) = target.url.host() {
        builder = builder.resolve_to_addrs(d, &target.addrs);
    }
    let client = builder.build().map_err(OutboundError::Client)?;
    let mut request = client
        .request(method.clone(), target.url.clone())
        .headers(headers.clone());
    if let Some(body) = body {
        request = request.body(body.to_vec());
    }
    request.send().await.map_err(OutboundError::of)
}

/// `raw` for a message: without any credentials it carries.
fn shown(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            // Only fails for URLs that cannot have credentials, which these have.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

/// Whether `ip` is an address a server should not be made to call on a client's behalf:
/// loopback, private, link-local, carrier-grade NAT, unspecified, multicast, broadcast,
/// reserved and documentation ranges, IPv6 unique-local and site-local, NAT64 local-use
/// prefixes, and IPv4 addresses embedded in IPv6 (mapped, translated, IPv4-compatible,
/// NAT64, 6to4, Teredo) that are any of these.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let v4_at = |hi: u16, lo: u16| {
                Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            let embedded = match s {
                // ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated, RFC 2765)
                [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0xffff, 0, hi, lo] => {
                    vec![v4_at(hi, lo)]
                }
                // 64:ff9b::a.b.c.d, the well-known NAT64 prefix (RFC 6052)
                [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => vec![v4_at(hi, lo)],
                // 2002:aabb:ccdd::/48, 6to4 (RFC 3056): the relay calls a.b.c.d
                [0x2002, hi, lo, ..] => vec![v4_at(hi, lo)],
                // 2001:0::/32, Teredo (RFC 4380): the server's address, then the client's
                // with its bits inverted
                [0x2001, 0, server_hi, server_lo, _, _, client_hi, client_lo] => {
                    vec![v4_at(server_hi, server_lo), v4_at(!client_hi, !client_lo)]
                }
                _ => Vec::new(),
            };
            if embedded.into_iter().any(is_internal_v4) {
                return true;
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                // 64:ff9b:1::/48, NAT64 for local use (RFC 8215): where the IPv4 address sits
                // depends on the operator's prefix length, so none of it is trusted.
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                // IPv4-compatible (deprecated) ::a.b.c.d
                || (s[0..6] == [0, 0, 0, 0, 0, 0])
        }
    }
}

fn is_internal_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
        || (o[0] == 192 && o[1] == 0 && o[2] == 0)
        || (o[0] == 198 && (o[1] & 0xfe) == 18)
        || o[0] >= 240
}

#[cfg(test)]
mod tests;
