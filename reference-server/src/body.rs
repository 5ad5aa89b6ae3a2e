//! Request and response bodies: size limits, gzip both ways, JSON with clear errors.

use crate::error::{Error, Result};
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Limited};
use protocol::{ErrorCode, GZIP_THRESHOLD, MAX_BODY_BYTES};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::{Read, Write};

/// Reads a JSON request body of at most [`MAX_BODY_BYTES`] (after decompression).
pub(crate) async fn read_json<T: DeserializeOwned>(headers: &HeaderMap, body: Body) -> Result<T> {
    let too_large = || {
        Error::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::BodyTooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let raw = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(e) => return Err(Error::bad_request(ErrorCode::MalformedRequest, format!("reading the body failed: {e}"))),
    };
    let plain = match headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?")) {
        None | Some("identity") => raw,
        Some("gzip") => gunzip(&raw).map_err(|e| match e {
            Gunzip::TooLarge => too_large(),
            Gunzip::Corrupt(e) => {
                Error::bad_request(ErrorCode::MalformedRequest, format!("the gzip body is corrupt: {e}"))
            }
        })?,
        Some(other) => {
            return Err(Error::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedEncoding,
                format!("content-encoding {other:?} is not supported; send identity or gzip"),
            ))
        }
    };
    serde_json::from_slice(&plain)
        .map_err(|e| Error::bad_request(ErrorCode::MalformedRequest, format!("the body is not a valid request: {e}")))
}

enum Gunzip {
    TooLarge,
    Corrupt(std::io::Error),
}

fn gunzip(raw: &[u8]) -> std::result::Result<Bytes, Gunzip> {
    let mut out = Vec::new();
    let limit = MAX_BODY_BYTES as u64 + 1;
    GzDecoder::new(raw).take(limit).read_to_end(&mut out).map_err(Gunzip::Corrupt)?;
    if out.len() > MAX_BODY_BYTES {
        return Err(Gunzip::TooLarge);
    }
    Ok(out.into())
}

/// A JSON response, gzip-compressed when the client accepts gzip and the body is larger
/// than [`GZIP_THRESHOLD`].
pub(crate) fn json_response<T: Serialize>(request_headers: &HeaderMap, value: &T) -> Response {
    let json = serde_json::to_vec(value).expect("responses always serialize");
    let accepts_gzip = request_headers.get_all(ACCEPT_ENCODING).iter().any(|v| v.to_str().is_ok_and(accepts_gzip));
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = if accepts_gzip && json.len() > GZIP_THRESHOLD {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        gzip(&json)
    } else {
        json
    };
    (StatusCode::OK, headers, body).into_response()
}

/// Whether an `accept-encoding` value accepts gzip: listed (or `*`) with a quality above
/// zero (`gzip;q=0` refuses it, RFC 9110 section 12.5.3).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        let quality = parts.find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")));
        let wanted = quality.is_none_or(|q| q.parse::<f32>().is_ok_and(|q| q > 0.0));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && wanted
    })
}

/// Gzip-compresses `data`. The header carries no timestamp, so equal input gives equal bytes.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::fast());
    encoder.write_all(data).expect("writing to a Vec cannot fail");
    encoder.finish().expect("writing to a Vec cannot fail")
}
