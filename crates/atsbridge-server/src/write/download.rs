//! An attachment's bytes: inline `data` decoded, or `data_url` downloaded behind the
//! internal-address guard, within the 10 MiB all attachments share.

use atsbridge_model::connector::FileUpload;
use atsbridge_model::write::{is_content_type, AttachmentInput, MAX_ATTACHMENTS_BYTES};
use atsbridge_sync::outbound::{Outbound, OutboundError, OutboundRequest, Redirects};
use axum::http::header;

use crate::error::{ApiError, ApiResult};
use crate::ServerConfig;

/// Redirects followed when downloading a `data_url`.
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

/// Downloads `raw` into memory through the guarded client (`Outbound`: http(s) only, no
/// credentials, every address the host resolves to public unless
/// `allow_private_attachment_urls`, connections pinned to the checked addresses), at most
/// `cap` bytes, following at most 3 redirects (each target checked the same way), all within
/// the configured timeout.
async fn download(
    config: &ServerConfig,
    raw: &str,
    cap: usize,
) -> Result<(Vec<u8>, Option<String>), String> {
    let failed = |e| message(raw, e);
    let outbound = Outbound::new(config.allow_private_attachment_urls);
    let response = outbound
        .send(
            OutboundRequest::get(raw),
            config.attachment_download_timeout,
            Redirects::Follow(MAX_REDIRECTS),
        )
        .await
        .map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "`{}` answered HTTP {}",
            response.url(),
            status.as_u16()
        ));
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| is_content_type(v));
    let data = response.bytes_capped(cap).await.map_err(failed)?;
    Ok((data, content_type))
}

/// What the client is told when `raw` could not be downloaded.
fn message(raw: &str, e: OutboundError) -> String {
    let failed = |why: &dyn std::fmt::Display| format!("`{raw}` could not be downloaded: {why}");
    match e {
        OutboundError::NotHttp { url } => {
            format!("`{url}` is not an http(s) URL; only http and https are downloaded")
        }
        OutboundError::NotPublic { .. } => format!(
            "{e}; atsbridge downloads attachments only from public addresses, \
             never from internal addresses"
        ),
        OutboundError::TooLarge { url, cap } => {
            format!("`{url}` is larger than the {cap} bytes left of the 10 MiB attachments limit")
        }
        OutboundError::Timeout => failed(&"the download timed out"),
        OutboundError::Connect => failed(&"the connection failed"),
        OutboundError::Request(e) => failed(&e),
        other => other.to_string(),
    }
}
