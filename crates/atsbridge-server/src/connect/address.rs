//! How connection-link URLs are built: from the public URL, from the request's `Host` and
//! `X-Forwarded-Proto` behind a trusted proxy, or from the address the server listens on;
//! whether the pages are served over https; and the warnings an operator hears about all
//! this at start.

use std::net::{IpAddr, SocketAddr};

use atsbridge_model::ErrorCode;
use axum::http::{header, HeaderMap};

use crate::error::{ApiError, ApiResult};
use crate::management::external_base;
use crate::ServerConfig;

/// The address customers reach the pages at, for links: the public URL; else, behind a
/// proxy the operator trusts, the request's `Host` and `X-Forwarded-Proto`; else the
/// address the server listens on. Both headers are the client's to choose, so believing
/// them by default would let any API caller hand out links to a host of theirs.
pub(super) fn link_base(config: &ServerConfig, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(url) = configured_public_url(config) {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    if config.trust_forwarded_headers {
        let base = external_base(headers, None);
        if base.is_empty() {
            return Err(ApiError::invalid(
                "Host",
                "missing or not a host name; the proxy in front of atsbridge must pass it on (or set --public-url)",
            ));
        }
        return Ok(base);
    }
    match config.listen_addr {
        Some(addr) if addr.ip().is_unspecified() => Err(ApiError::new(
            ErrorCode::PlatformUnknownError,
            format!(
                "connection links need the address customers reach atsbridge at, and it listens on {addr} (every interface): start `atsbridge serve` with --public-url (e.g. https://ats.vendor.example), or with --trust-forwarded-headers behind a reverse proxy that sets Host and X-Forwarded-Proto"
            ),
        )),
        Some(addr) => Ok(format!("http://{addr}")),
        // Embedded without being told its address (tests, the demo): a loopback Host can
        // only point the customer at their own machine, never at somebody else's.
        None => match request_host(headers) {
            Some(host) if is_loopback_host(host) => Ok(format!("http://{host}")),
            host => Err(ApiError::invalid(
                "Host",
                format!(
                    "`{}` is not an address this server knows as its own; set --public-url to the address customers reach (or --trust-forwarded-headers behind a reverse proxy)",
                    host.unwrap_or_default()
                ),
            )),
        },
    }
}

fn configured_public_url(config: &ServerConfig) -> Option<&str> {
    config
        .public_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
}

fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
}

/// `127.0.0.1:3000`, `[::1]:3000`, `localhost:3000`, with or without the port.
fn is_loopback_host(host: &str) -> bool {
    if let Ok(addr) = host.parse::<SocketAddr>() {
        return addr.ip().is_loopback();
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.chars().all(|c| c.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether the customer reaches the pages over https, as far as this server can know: it
/// speaks plain HTTP itself, so only the public URL or a trusted proxy can say so.
pub(crate) fn served_over_https(config: &ServerConfig, headers: &HeaderMap) -> bool {
    if let Some(url) = configured_public_url(config) {
        return url::Url::parse(url).is_ok_and(|u| u.scheme() == "https");
    }
    config.trust_forwarded_headers
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// What an operator should hear at start about the address in connection links: that the
/// pages, which take API keys, are served over plain HTTP beyond this machine, or that
/// links cannot be made at all.
pub fn address_warnings(config: &ServerConfig) -> Vec<String> {
    let loopback = |host: Option<url::Host<&str>>| match host {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let mut warnings = Vec::new();
    if let Some(public) = configured_public_url(config) {
        match url::Url::parse(public) {
            Ok(u) if u.scheme() == "http" && !loopback(u.host()) => warnings.push(format!(
                "the public URL {public} is plain HTTP: the API keys customers enter on connection pages cross the network unencrypted; serve atsbridge behind TLS and set --public-url to its https:// address"
            )),
            Ok(_) => {}
            Err(e) => warnings.push(format!(
                "the public URL `{public}` is not a URL ({e}); connection links will carry it as given"
            )),
        }
        return warnings;
    }
    if config.trust_forwarded_headers {
        return warnings;
    }
    match config.listen_addr {
        Some(addr) if addr.ip().is_unspecified() => warnings.push(format!(
            "connection links cannot be created: atsbridge listens on {addr} (every interface) and does not know the address customers reach; set --public-url (or --trust-forwarded-headers behind a reverse proxy)"
        )),
        Some(addr) if !addr.ip().is_loopback() => warnings.push(format!(
            "connection links point at http://{addr}, plain HTTP: the API keys customers enter cross the network unencrypted; serve atsbridge behind TLS and set --public-url to its https:// address"
        )),
        _ => {}
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognized() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:3000",
            "127.9.9.9:1",
            "[::1]:3000",
            "[::1]",
            "::1",
            "localhost",
            "LocalHost:8080",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:3000",
            "10.0.0.1:3000",
            "[2001:db8::1]:80",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn plain_http_beyond_this_machine_is_warned_about_at_start() {
        let config = |public_url: Option<&str>, listen: Option<&str>, trust: bool| ServerConfig {
            public_url: public_url.map(str::to_owned),
            listen_addr: listen.map(|a| a.parse().unwrap()),
            trust_forwarded_headers: trust,
            ..ServerConfig::default()
        };
        let warned = |c: &ServerConfig, about: &str| {
            let w = address_warnings(c);
            assert_eq!(w.len(), 1, "{w:?}");
            assert!(w[0].contains(about), "{w:?}");
        };
        warned(
            &config(Some("http://ats.vendor.example"), None, false),
            "plain HTTP",
        );
        warned(&config(None, Some("10.1.2.3:3000"), false), "plain HTTP");
        warned(&config(None, Some("0.0.0.0:3000"), false), "--public-url");
        for quiet in [
            config(
                Some("https://ats.vendor.example"),
                Some("0.0.0.0:3000"),
                false,
            ),
            config(Some("http://127.0.0.1:3000"), None, false),
            config(Some("http://localhost:3000/"), None, false),
            config(None, Some("127.0.0.1:3000"), false),
            config(None, Some("0.0.0.0:3000"), true),
            config(None, None, false),
        ] {
            assert!(address_warnings(&quiet).is_empty(), "{quiet:?}");
        }
    }
}
