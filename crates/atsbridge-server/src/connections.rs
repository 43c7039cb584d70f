//! The HTTP/1.1 connections under the router. It enforces what the router cannot, because it
//! happens before there is a request to route: how many connections are open, how long a
//! client may take to send a request head, how long an idle connection is kept, and how
//! large a head may be. Oversized heads are answered in Kombo's envelope: hyper answers its
//! own parse errors with an empty body, so its limits are set above ours and never reached
//! by a head we read.
//!
//! Owns: the accept loop, per-connection deadlines, the request-head guard.
//! Must not import: anything above axum and hyper; it serves whatever `Router` it is given.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use atsbridge_model::{ErrorCode, ErrorResponse};
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt as _;

/// The largest request head (request line and headers) read; beyond it the client gets 414
/// (when the request line alone is longer) or 431.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The most header fields one request may have (431 beyond).
pub const MAX_HEADERS: usize = 100;
/// hyper's own limits, above ours so that a head we guard never meets them. hyper's request
/// target limit (65,534 bytes) is above `MAX_HEAD_BYTES` minus a request line's other parts.
const HYPER_MAX_BUF: usize = 4 * MAX_HEAD_BYTES;
const HYPER_MAX_HEADERS: usize = 2 * MAX_HEADERS;

/// Limits of the HTTP layer, below the router.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// How long a client may take to send a request head: from the connection's start for
    /// its first request, from the first byte for later ones.
    pub header_read_timeout: Duration,
    /// How long a connection is kept open between requests, and how long a response waits
    /// for a client that does not read it.
    pub idle_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog until one closes.
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets open requests finish.
/// Requests carry the client's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    mut listener: TcpListener,
    app: Router,
    config: HttpConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .max_buf_size(HYPER_MAX_BUF)
        .max_headers(HYPER_MAX_HEADERS)
        // Our watchdog times heads; hyper's timer would also cut idle keep-alive waits.
        .header_read_timeout(None);
    let mut shutdown = pin!(shutdown);
    loop {
        // The permit is taken before `accept`, so connections above the cap stay in the
        // kernel's backlog instead of costing a task and buffers each.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        // Small JSON answers should not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let io = TokioIo::new(Watched::new(stream, activity.clone()));
        let service = {
            let (app, activity) = (app.clone(), activity.clone());
            hyper::service::service_fn(move |request| {
                handle(app.clone(), activity.clone(), remote, request)
            })
        };
        let connection = graceful.watch(builder.serve_connection(io, service));
        let config = config.clone();
        tokio::spawn(async move {
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %remote, "connection ended with an error");
                    }
                }
                () = activity.expired(&config) => {
                    tracing::debug!(%remote, "closed a connection that was idle or slow to send its request");
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// One request through the router, telling `activity` when it starts and ends.
async fn handle(
    app: Router,
    activity: Arc<Activity>,
    remote: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Tracked>, Infallible> {
    let unread = !request.body().is_end_stream();
    activity.request_started(unread);
    let mut request = request.map(|body| {
        if unread {
            Body::new(RequestBody {
                body,
                activity: Some(activity.clone()),
            })
        } else {
            Body::new(body)
        }
    });
    request.extensions_mut().insert(ConnectInfo(remote));
    let response = app.oneshot(request).await.unwrap_or_else(|e| match e {});
    activity.response_ready();
    Ok(response.map(|body| Tracked { body, activity }))
}

/// What one connection is doing, for its deadlines and its head guard.
#[derive(Debug)]
struct Activity {
    state: Mutex<State>,
    /// Wakes the watchdog when a deadline may have moved earlier.
    changed: Notify,
}

#[derive(Debug)]
struct State {
    /// Requests whose handler has not answered yet.
    handling: usize,
    /// Responses whose body hyper has not finished sending.
    sending: usize,
    /// Requests whose body was not read to its end (yet).
    unread_bodies: usize,
    /// The next bytes read start a request head.
    awaiting_head: bool,
    head_started: Option<Instant>,
    last_io: Instant,
}

impl Activity {
    fn new() -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Activity {
            state: Mutex::new(State {
                handling: 0,
                sending: 0,
                unread_bodies: 0,
                awaiting_head: true,
                // A connection is opened to send a request: its first head is timed from
                // the start, so one that sends nothing goes as soon as a slow one.
                head_started: Some(now),
                last_io: now,
            }),
            changed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.lock());
        self.changed.notify_one();
    }

    fn io(&self) {
        self.lock().last_io = Instant::now();
    }

    fn awaiting_head(&self) -> bool {
        self.lock().awaiting_head
    }

    fn head_bytes(&self) {
        self.update(|s| {
            let now = Instant::now();
            s.last_io = now;
            s.head_started.get_or_insert(now);
        });
    }

    fn head_complete(&self) {
        self.update(|s| {
            s.awaiting_head = false;
            s.head_started = None;
        });
    }

    fn request_started(&self, unread_body: bool) {
        self.update(|s| {
            s.handling += 1;
            s.unread_bodies += usize::from(unread_body);
            s.awaiting_head = false;
            s.head_started = None;
        });
    }

    fn response_ready(&self) {
        self.update(|s| {
            s.handling = s.handling.saturating_sub(1);
            s.sending += 1;
        });
    }

    fn response_sent(&self) {
        self.update(|s| {
            s.sending = s.sending.saturating_sub(1);
            s.settle();
        });
    }

    fn body_read(&self) {
        self.update(|s| {
            s.unread_bodies = s.unread_bodies.saturating_sub(1);
            s.settle();
        });
    }

    /// Resolves when the connection has been idle, or slow to send a head, for too long.
    async fn expired(&self, config: &HttpConfig) {
        loop {
            let changed = self.changed.notified();
            let deadline = self.lock().deadline(config);
            match deadline {
                Some(deadline) if deadline <= Instant::now() => return,
                Some(deadline) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }
}

impl State {
    /// Between requests, once every body was read, the next bytes start a new head. A body
    /// left unread is drained (or the connection closed) by hyper, so those bytes are not
    /// a head and the guard stays off for the rest of the connection.
    fn settle(&mut self) {
        if self.handling == 0 && self.sending == 0 && self.unread_bodies == 0 {
            self.awaiting_head = true;
            self.last_io = Instant::now();
        }
    }

    fn deadline(&self, config: &HttpConfig) -> Option<Instant> {
        if self.handling > 0 {
            // The handler's own timeout bounds it.
            return None;
        }
        if self.sending > 0 {
            return Some(self.last_io + config.idle_timeout);
        }
        match (self.awaiting_head, self.head_started) {
            (true, Some(started)) => Some(started + config.header_read_timeout),
            _ => Some(self.last_io + config.idle_timeout),
        }
    }
}

/// A response body that tells the connection when hyper is done with it.
#[derive(Debug)]
struct Tracked {
    body: Body,
    activity: Arc<Activity>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.activity.response_sent();
    }
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A request body that tells the connection when it was read to its end.
#[derive(Debug)]
struct RequestBody {
    body: Incoming,
    /// `None` once reported.
    activity: Option<Arc<Activity>>,
}

impl HttpBody for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(Pin::new(&mut self.body).poll_frame(cx));
        let ended = match &frame {
            None => true,
            Some(Ok(_)) => self.body.is_end_stream(),
            Some(Err(_)) => false,
        };
        if ended {
            if let Some(activity) = self.activity.take() {
                activity.body_read();
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Counts a request head as it arrives: its bytes, its lines, and where it ends (the first
/// empty line; empty lines before the request line are skipped, as hyper does).
#[derive(Debug, Default)]
struct HeadScan {
    bytes: usize,
    lines: usize,
    /// The current line has nothing but `\r` so far.
    blank: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Scanned {
    Partial,
    Complete,
    TooLarge(StatusCode),
}

impl HeadScan {
    fn new() -> Self {
        HeadScan {
            bytes: 0,
            lines: 0,
            blank: true,
        }
    }

    fn feed(&mut self, data: &[u8]) -> Scanned {
        for &b in data {
            self.bytes += 1;
            match b {
                b'\n' if self.blank && self.lines > 0 => return Scanned::Complete,
                b'\n' if self.blank => {}
                b'\n' => {
                    self.lines += 1;
                    self.blank = true;
                }
                b'\r' => {}
                _ => self.blank = false,
            }
            if self.bytes > MAX_HEAD_BYTES {
                return Scanned::TooLarge(if self.lines == 0 {
                    StatusCode::URI_TOO_LONG
                } else {
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
                });
            }
            if self.lines > MAX_HEADERS + 1 {
                return Scanned::TooLarge(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
            }
        }
        Scanned::Partial
    }
}

/// The answer to a head that was too large, written once hyper has let go of the
/// connection (at its shutdown, after anything it still had to send).
#[derive(Debug)]
struct Refusal {
    response: Vec<u8>,
    written: usize,
    shut: bool,
}

impl Refusal {
    fn new(status: StatusCode) -> Self {
        let message = if status == StatusCode::URI_TOO_LONG {
            format!("the request URI is longer than the limit of {MAX_HEAD_BYTES} bytes")
        } else {
            format!(
                "the request headers are larger than the limit of {MAX_HEAD_BYTES} bytes or {MAX_HEADERS} fields"
            )
        };
        let body = serde_json::to_vec(&ErrorResponse::new(
            ErrorCode::PlatformInputInvalid,
            message,
        ))
        .unwrap_or_default();
        let mut response = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        Refusal {
            response,
            written: 0,
            shut: false,
        }
    }
}

/// The connection's socket as hyper sees it. While a head is awaited, its bytes are held
/// back until the head is complete, so a head that turns out too large never reaches hyper:
/// hyper sees the connection end, and the refusal is written when it shuts it down.
#[derive(Debug)]
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
    /// `Some` while a head is read and counted.
    head: Option<HeadScan>,
    /// Bytes read from the socket and not yet handed to hyper; `released` of them were.
    staged: Vec<u8>,
    released: usize,
    refusal: Option<Refusal>,
}

impl Watched {
    fn new(io: TcpStream, activity: Arc<Activity>) -> Self {
        Watched {
            io,
            activity,
            head: None,
            staged: Vec::new(),
            released: 0,
            refusal: None,
        }
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.head.is_none() && this.released < this.staged.len() {
                let n = buf.remaining().min(this.staged.len() - this.released);
                buf.put_slice(&this.staged[this.released..this.released + n]);
                this.released += n;
                if this.released == this.staged.len() {
                    this.staged.clear();
                    this.released = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.refusal.is_some() {
                return Poll::Ready(Ok(()));
            }
            if this.head.is_none() && this.activity.awaiting_head() {
                this.head = Some(HeadScan::new());
            }
            let Some(scan) = &mut this.head else {
                let before = buf.filled().len();
                ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
                if buf.filled().len() > before {
                    this.activity.io();
                }
                return Poll::Ready(Ok(()));
            };
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            let data = read.filled();
            if data.is_empty() {
                // The client stopped sending: hyper gets what came of the head, then the end.
                this.head = None;
                if this.staged.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            this.activity.head_bytes();
            match scan.feed(data) {
                Scanned::Partial => this.staged.extend_from_slice(data),
                Scanned::Complete => {
                    this.staged.extend_from_slice(data);
                    this.head = None;
                    this.activity.head_complete();
                }
                Scanned::TooLarge(status) => {
                    tracing::info!(
                        status = status.as_u16(),
                        "refused a request whose head is too large"
                    );
                    this.head = None;
                    this.staged = Vec::new();
                    this.released = 0;
                    this.refusal = Some(Refusal::new(status));
                }
            }
        }
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.io).poll_write(cx, buf))?;
        this.activity.io();
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.io).poll_write_vectored(cx, bufs))?;
        this.activity.io();
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let Some(refusal) = &mut this.refusal else {
            return Pin::new(&mut this.io).poll_shutdown(cx);
        };
        while refusal.written < refusal.response.len() {
            let n = ready!(
                Pin::new(&mut this.io).poll_write(cx, &refusal.response[refusal.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            refusal.written += n;
        }
        if !refusal.shut {
            ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
            refusal.shut = true;
        }
        // Closing a socket with unread input resets the connection, and a reset can destroy
        // the answer before the client reads it: read until the client closes (the header
        // deadline bounds the wait).
        let mut sink = [0u8; 8192];
        loop {
            let mut read = ReadBuf::new(&mut sink);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
            this.activity.io();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_ends_at_its_first_empty_line() {
        let mut scan = HeadScan::new();
        assert_eq!(
            scan.feed(b"\r\nGET / HTTP/1.1\r\nHost: a\r"),
            Scanned::Partial
        );
        assert_eq!(scan.feed(b"\n\r\nbody"), Scanned::Complete);
        let mut bare = HeadScan::new();
        assert_eq!(bare.feed(b"GET / HTTP/1.1\nHost: a\n\n"), Scanned::Complete);
    }

    #[test]
    fn a_long_request_line_is_414_and_long_headers_431() {
        let mut scan = HeadScan::new();
        let line = vec![b'a'; MAX_HEAD_BYTES + 1];
        assert_eq!(
            scan.feed(&line),
            Scanned::TooLarge(StatusCode::URI_TOO_LONG)
        );
        let mut scan = HeadScan::new();
        assert_eq!(scan.feed(b"GET / HTTP/1.1\r\nx: "), Scanned::Partial);
        assert_eq!(
            scan.feed(&line),
            Scanned::TooLarge(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
    }

    #[test]
    fn at_most_max_headers_fields() {
        let head = |fields: usize| {
            let mut h = b"GET / HTTP/1.1\r\n".to_vec();
            for i in 0..fields {
                h.extend_from_slice(format!("x-{i}: 1\r\n").as_bytes());
            }
            h.extend_from_slice(b"\r\n");
            h
        };
        assert_eq!(HeadScan::new().feed(&head(MAX_HEADERS)), Scanned::Complete);
        assert_eq!(
            HeadScan::new().feed(&head(MAX_HEADERS + 1)),
            Scanned::TooLarge(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
    }

    #[test]
    fn the_refusal_is_a_complete_response_in_the_envelope() {
        let refusal = Refusal::new(StatusCode::URI_TOO_LONG);
        let text = String::from_utf8(refusal.response).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["status"], "error");
        assert_eq!(json["error"]["code"], "PLATFORM.INPUT_INVALID");
    }
}
