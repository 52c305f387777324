//! The connection under the HTTP server: the few errors actix-http answers by itself,
//! before any of the service's code runs, leave as problem+json like every other error.
//!
//! A request head the parser cannot take (a URL past the 64 KiB the `http` crate's URI
//! holds, or a head past 128 KiB) gets a bare `400` or `431` with no body, written
//! straight to the socket before the connection is closed. Every response the
//! application writes carries a body (bare errors are rewritten by
//! `middleware::problem_for_bare_errors`), so a write that begins with exactly those
//! bytes is the parser's, and is replaced by the same status as a problem document.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::web::problem::MAX_URL_BYTES;

/// What actix-http writes for a request head it could not parse, and the status it means.
const PARSER_ERRORS: [(&[u8], StatusCode); 2] = [
    (b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n", StatusCode::BAD_REQUEST),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
    ),
];

/// A connection whose parser-made error responses are rewritten as problem+json.
pub struct ProblemIo<T> {
    inner: T,
    /// A replacement response still to be written, and how much of it has been.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> ProblemIo<T> {
    pub fn new(inner: T) -> Self {
        ProblemIo { inner, pending: None }
    }
}

/// The problem response that stands in for the parser's bare `status`, in Vietnamese:
/// a request that could not be read has no language to ask for.
fn replacement(status: StatusCode) -> Vec<u8> {
    let c = crate::i18n::catalogs();
    let lang = crate::i18n::Lang::Vi;
    let (code, detail) = if status == StatusCode::BAD_REQUEST {
        ("bad-request", c.text(lang, "problem-malformed-detail", &[("max", MAX_URL_BYTES.to_string())]))
    } else {
        ("headers-too-large", c.text(lang, "problem-headers-too-large-detail", &[]))
    };
    let body = serde_json::json!({
        "type": format!("urn:casetrack:problem:{code}"),
        "title": c.text(lang, "problem-bad-request", &[]),
        "status": status.as_u16(),
        "detail": detail,
    })
    .to_string();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes()
}

impl<T: AsyncWrite + Unpin> ProblemIo<T> {
    /// Writes what is left of a replacement; ready once it is all out.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, done)) = &mut self.pending {
            if *done == bytes.len() {
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.pending.is_some() {
            // The connection is closing after the replacement; nothing else goes out.
            ready!(self.drain(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        if let Some((_, status)) = PARSER_ERRORS.iter().find(|(bare, _)| buf.starts_with(bare)) {
            self.pending = Some((replacement(*status), 0));
            ready!(self.drain(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_parser_error_is_rewritten_and_other_writes_pass_through() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let mut io = ProblemIo::new(server);
        io.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await.unwrap();
        io.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: x\r\n\r\n")
            .await
            .unwrap();
        io.shutdown().await.unwrap();
        drop(io);
        let mut seen = String::new();
        let mut client = client;
        client.read_to_string(&mut seen).await.unwrap();
        let (ok, problem) = seen.split_at(seen.find("HTTP/1.1 400").unwrap());
        assert_eq!(ok, "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        assert!(problem.contains("content-type: application/problem+json\r\n"), "{problem}");
        let body: serde_json::Value = serde_json::from_str(problem.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["status"], 400);
        assert_eq!(body["type"], "urn:casetrack:problem:bad-request");
    }
}
