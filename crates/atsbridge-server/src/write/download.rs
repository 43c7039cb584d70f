//! An attachment's bytes: inline `data` decoded, or `data_url` downloaded behind the
//! internal-address guard, within the 10 MiB all attachments share.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use atsbridge_model::connector::FileUpload;
use atsbridge_model::write::{is_content_type, AttachmentInput, MAX_ATTACHMENTS_BYTES};
use axum::http::header;

use crate::error::{ApiError, ApiResult};
use crate::ServerConfig;

/// Redirects followed when downloading a `data_url` (each target is checked again).
const MAX_REDIRECTS: usize = 3;

/// The bytes of attachment `i`: decoded `data`, or `data_url` downloaded.
pub(super) async fn file(
    config: &ServerConfig,
    attachments: &[AttachmentInput],
    i: usize,
) -> ApiResult<FileUpload> {
    let a = &attachments[i];
    let name = a.name.as_deref().unwrap_or_default().trim().to_owned();
    if let Some(Ok(data)) = a.decode_data() {
        return Ok(FileUpload {
            name,
            content_type: a
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into()),
            data,
        });
    }
    let url = a.data_url.as_deref().unwrap_or_default();
    // Inline data of the other attachments counts against the same 10 MiB.
    let inline: usize = attachments
        .iter()
        .filter_map(|a| a.decode_data().and_then(Result::ok).map(|d| d.len()))
        .sum();
    let cap = MAX_ATTACHMENTS_BYTES.saturating_sub(inline);
    let (data, downloaded_type) = download(config, url, cap)
        .await
        .map_err(|problem| ApiError::invalid(&format!("attachments[{i}].data_url"), problem))?;
    Ok(FileUpload {
        name,
        content_type: a
            .content_type
            .clone()
            .or(downloaded_type)
            .unwrap_or_else(|| "application/octet-stream".into()),
        data,
    })
}

pub use atsbridge_sync::webhooks::is_internal;

/// Downloads `raw` (http or https only) into memory, at most `cap` bytes, within the
/// configured timeout. Unless `allow_private_attachment_urls`, the host is resolved first and
/// every address it resolves to must be public; the connection then goes to exactly those
/// addresses (no second lookup that could answer differently), without any proxy, and each
/// redirect target is checked the same way.
async fn download(
    config: &ServerConfig,
    raw: &str,
    cap: usize,
) -> Result<(Vec<u8>, Option<String>), String> {
    let started = Instant::now();
    let limit = config.attachment_download_timeout;
    let left = || limit.saturating_sub(started.elapsed());
    let mut url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
    for _ in 0..=MAX_REDIRECTS {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "`{url}` is not an http(s) URL; only http and https are downloaded"
            ));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| format!("`{url}` has no port"))?;
        let (domain, addrs): (Option<String>, Vec<SocketAddr>) = match url.host() {
            Some(url::Host::Ipv4(ip)) => (None, vec![SocketAddr::new(ip.into(), port)]),
            Some(url::Host::Ipv6(ip)) => (None, vec![SocketAddr::new(ip.into(), port)]),
            Some(url::Host::Domain(d)) => {
                let lookup = tokio::time::timeout(left(), tokio::net::lookup_host((d, port)))
                    .await
                    .map_err(|_| format!("resolving `{d}` timed out"))?
                    .map_err(|e| format!("`{d}` could not be resolved: {e}"))?;
                (Some(d.to_owned()), lookup.collect())
            }
            None => return Err(format!("`{url}` has no host")),
        };
        if addrs.is_empty() {
            return Err(format!("`{url}` resolves to no address"));
        }
        if !config.allow_private_attachment_urls {
            // The message never names the address: a client must not learn what an
            // internal name resolves to.
            if addrs.iter().any(|a| is_internal(a.ip())) {
                return Err(format!(
                    "`{url}` is {}; atsbridge downloads attachments only from public addresses, never from internal addresses",
                    atsbridge_sync::webhooks::NOT_PUBLIC
                ));
            }
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(left())
            .connect_timeout(left().min(Duration::from_secs(10)));
        if let Some(d) = &domain {
            builder = builder.resolve_to_addrs(d, &addrs);
        }
        let client = builder
            .build()
            .map_err(|e| format!("the download could not start: {e}"))?;
        let mut response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("`{url}` could not be downloaded: {}", describe_error(&e)))?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| format!("`{url}` redirected without a Location"))?;
            url = url
                .join(location)
                .map_err(|e| format!("`{url}` redirected to a bad URL: {e}"))?;
            continue;
        }
        if !status.is_success() {
            return Err(format!("`{url}` answered HTTP {}", status.as_u16()));
        }
        let too_big = || {
            format!("`{url}` is larger than the {cap} bytes left of the 10 MiB attachments limit")
        };
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_big());
        }
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| is_content_type(v));
        let mut data = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if data.len() + chunk.len() > cap {
                        return Err(too_big());
                    }
                    data.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(format!(
                        "`{url}` could not be downloaded: {}",
                        describe_error(&e)
                    ))
                }
            }
        }
        return Ok((data, content_type));
    }
    Err(format!(
        "`{raw}` redirected more than {MAX_REDIRECTS} times"
    ))
}

fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the download timed out".into()
    } else if e.is_connect() {
        "the connection failed".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "255.255.255.255",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "93.184.216.34",
        ] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }
}
