//! Limits that keep one client from costing the server too much: list parameters, request
//! heads, slow and idle connections, the number of connections, wrong API keys; and query
//! values the SDKs send that must be understood.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use atsbridge_server::connections::{MAX_HEADERS, MAX_HEAD_BYTES};
use atsbridge_server::query::MAX_LIST_ITEMS;
use atsbridge_server::{app, serve_with, AppState, HttpConfig, ServerConfig};
use atsbridge_sync::{Engine, EngineConfig};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use atsbridge_test_support::assert::header;
use atsbridge_test_support::{sqlite, TempDir};

use crate::helpers::{factory, send, spawn_app, Options, TestApp};

fn assert_envelope(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"].get("log_url").is_some(), "{body}");
}

// ---------------------------------------------------------------------------------------
// List parameters
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_list_parameter_above_the_cap_is_refused_naming_it() {
    let app = spawn_app(Options::default()).await;
    let (_, page) = app.get("/v1/ats/applications?page_size=5").await;
    let known: Vec<String> = page["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    // Made-up ids after the real ones: exactly the cap, and one more.
    let ids = |n: usize| {
        let mut ids = known.clone();
        ids.extend((ids.len()..n).map(|i| format!("{i:0>24}")));
        ids.join(",")
    };

    let (status, body) = app
        .get(&format!("/v1/ats/applications?ids={}", ids(MAX_LIST_ITEMS)))
        .await;
    assert_eq!(status, 200, "{body}");
    let found: BTreeSet<&str> = body["data"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(found, known.iter().map(String::as_str).collect());

    let (status, body) = app
        .get(&format!(
            "/v1/ats/applications?ids={}",
            ids(MAX_LIST_ITEMS + 1)
        ))
        .await;
    assert_envelope(status, &body, 400, "PLATFORM.INPUT_INVALID");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("ids:"), "{message}");
    assert!(message.contains(&MAX_LIST_ITEMS.to_string()), "{message}");

    // Every list parameter, comma-joined or repeated.
    let repeated = |name: &str| {
        (0..=MAX_LIST_ITEMS)
            .map(|i| format!("{name}=v{i}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    for (endpoint, name) in [
        ("jobs", "remote_ids"),
        ("jobs", "job_codes"),
        ("jobs", "employment_types"),
        ("candidates", "job_ids"),
        ("applications", "job_remote_ids"),
        ("applications", "current_stage_ids"),
        ("applications", "outcomes"),
        ("jobs", "statuses"),
    ] {
        let (status, body) = app
            .get(&format!("/v1/ats/{endpoint}?{}", repeated(name)))
            .await;
        assert_envelope(status, &body, 400, "PLATFORM.INPUT_INVALID");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{name}:")), "{message}");
    }
}

// ---------------------------------------------------------------------------------------
// Query values the SDKs send
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn updated_after_without_an_offset_is_read_as_utc() {
    let app = spawn_app(Options::default()).await;
    let ids = |body: &Value| -> BTreeSet<String> {
        body["data"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, every) = app.get("/v1/ats/jobs?page_size=250").await;
    assert!(!ids(&every).is_empty());
    for (naive, utc) in [
        ("2001-01-02T03:04:05", "2001-01-02T03:04:05Z"),
        ("2001-01-02T03:04:05.123456", "2001-01-02T03:04:05.123Z"),
        ("2999-01-02T03:04:05.5", "2999-01-02T03:04:05.500Z"),
    ] {
        let (status, body) = app
            .get(&format!("/v1/ats/jobs?page_size=250&updated_after={naive}"))
            .await;
        assert_eq!(status, 200, "{naive}: {body}");
        let (_, expected) = app
            .get(&format!("/v1/ats/jobs?page_size=250&updated_after={utc}"))
            .await;
        assert_eq!(ids(&body), ids(&expected), "{naive}");
    }
    // The same for applications' `remote_created_after`.
    let (status, body) = app
        .get("/v1/ats/applications?remote_created_after=2001-01-02T03:04:05")
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn employment_types_finds_every_value_a_job_has() {
    let app = spawn_app(Options {
        positions: 12,
        ..Options::default()
    })
    .await;
    app.sim
        .control(
            Method::POST,
            "positions",
            json!({"title": "Weekend help", "employment_type": "Freelance (hourly)"}),
        )
        .await;
    app.sync().await;
    let (_, page) = app.get("/v1/ats/jobs?page_size=250").await;
    let jobs = page["data"]["results"].as_array().unwrap().clone();
    let values: BTreeSet<&str> = jobs
        .iter()
        .filter_map(|j| j["employment_type"].as_str())
        .collect();
    assert!(values.contains("Freelance (hourly)"), "{values:?}");
    for value in values {
        let expected: BTreeSet<&str> = jobs
            .iter()
            .filter(|j| j["employment_type"] == value)
            .map(|j| j["id"].as_str().unwrap())
            .collect();
        let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
        let (status, body) = app
            .get(&format!(
                "/v1/ats/jobs?page_size=250&employment_types={encoded}"
            ))
            .await;
        assert_eq!(status, 200, "{value}: {body}");
        let got: BTreeSet<&str> = body["data"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{value}");
    }
    // Matched exactly: another spelling is another value.
    let (status, body) = app
        .get("/v1/ats/jobs?employment_types=freelance%20(hourly)")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["results"], json!([]));
}

// ---------------------------------------------------------------------------------------
// Wrong API keys
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_api_keys_are_rate_limited_per_client_address() {
    let app = spawn_app(Options {
        sync: false,
        config: ServerConfig {
            auth_failures_per_minute: 3,
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    let wrong = |app: &TestApp| {
        app.http
            .get(format!("{}/v1/check-api-key", app.base))
            .bearer_auth("atsb_guessed")
    };
    for _ in 0..3 {
        let response = wrong(&app).send().await.unwrap();
        assert_eq!(response.status(), 401);
    }
    let response = wrong(&app).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(header(&response, "ratelimit-limit"), Some("3"));
    assert_eq!(header(&response, "ratelimit-remaining"), Some("0"));
    let reset: u64 = header(&response, "ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    let retry: u64 = header(&response, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = response.json().await.unwrap();
    assert_envelope(429, &body, 429, "PLATFORM.RATE_LIMIT_EXCEEDED");

    // The address is blocked for keys until the window ends, a valid one included: a
    // guesser learns nothing from it.
    let (status, body) = send(app.request(Method::GET, "/v1/check-api-key")).await;
    assert_envelope(status, &body, 429, "PLATFORM.RATE_LIMIT_EXCEEDED");
    // Requests without a key (health checks, the connection pages) are not affected.
    let response = app
        .http
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

// ---------------------------------------------------------------------------------------
// Request heads
// ---------------------------------------------------------------------------------------

/// Reads one response: its status, its head and its body (as JSON when it is JSON).
async fn read_response(stream: &mut TcpStream) -> (u16, String, Value) {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("a response within 10 s")
            .expect("the response is readable");
        assert!(n > 0, "the connection closed before a response: {buffer:?}");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status: u16 = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .expect("a content-length");
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the connection closed within the body");
        body.extend_from_slice(&chunk[..n]);
    }
    let text = String::from_utf8_lossy(&body[..length]).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, head, json)
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

async fn exchange(addr: &str, request: &[u8]) -> (u16, String, Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_response(&mut stream).await
}

#[tokio::test]
async fn a_uri_too_long_for_the_http_layer_is_answered_in_the_envelope() {
    let app = spawn_app(Options {
        sync: false,
        ..Options::default()
    })
    .await;
    // Longer than any URI hyper (or the `http` crate) represents: 65,534 bytes.
    let long = format!(
        "GET /v1/ats/jobs?ids={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100_000)
    );
    let (status, head, body) = exchange(&addr(&app), long.as_bytes()).await;
    assert!(head
        .to_ascii_lowercase()
        .contains("content-type: application/json"));
    assert_envelope(status, &body, 414, "PLATFORM.INPUT_INVALID");
    // Just above our limit, still below hyper's.
    let above = format!(
        "GET /v1/ats/jobs?ids={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(MAX_HEAD_BYTES)
    );
    let (status, _, body) = exchange(&addr(&app), above.as_bytes()).await;
    assert_envelope(status, &body, 414, "PLATFORM.INPUT_INVALID");
}

#[tokio::test]
async fn headers_too_large_or_too_many_are_answered_in_the_envelope() {
    let app = spawn_app(Options {
        sync: false,
        ..Options::default()
    })
    .await;
    let huge = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(500_000)
    );
    let (status, _, body) = exchange(&addr(&app), huge.as_bytes()).await;
    assert_envelope(status, &body, 431, "PLATFORM.INPUT_INVALID");

    let many: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let request = format!("GET /health HTTP/1.1\r\nHost: x\r\n{many}\r\n");
    let (status, _, body) = exchange(&addr(&app), request.as_bytes()).await;
    assert_envelope(status, &body, 431, "PLATFORM.INPUT_INVALID");

    // At the limits the request is served.
    let fields: String = (0..MAX_HEADERS - 1)
        .map(|i| format!("X-H{i}: v\r\n"))
        .collect();
    let request = format!("GET /health HTTP/1.1\r\nHost: x\r\n{fields}\r\n");
    let (status, _, body) = exchange(&addr(&app), request.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let big = format!(
        "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "b".repeat(MAX_HEAD_BYTES - 100)
    );
    let (status, _, body) = exchange(&addr(&app), big.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_head_limits_hold_for_later_requests_on_a_connection() {
    let app = spawn_app(Options {
        sync: false,
        ..Options::default()
    })
    .await;
    let mut stream = TcpStream::connect(addr(&app)).await.unwrap();
    for _ in 0..2 {
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let (status, _, body) = read_response(&mut stream).await;
        assert_eq!(status, 200, "{body}");
    }
    // A request with a body (read to its end), then an oversized head.
    let post = format!(
        "POST /v1/webhooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}",
        app.key
    );
    stream.write_all(post.as_bytes()).await.unwrap();
    let (status, _, body) = read_response(&mut stream).await;
    assert_envelope(status, &body, 400, "PLATFORM.INPUT_INVALID");
    let long = format!(
        "GET /v1/ats/jobs?ids={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(100_000)
    );
    stream.write_all(long.as_bytes()).await.unwrap();
    let (status, _, body) = read_response(&mut stream).await;
    assert_envelope(status, &body, 414, "PLATFORM.INPUT_INVALID");
}

// ---------------------------------------------------------------------------------------
// Slow, idle and too many connections
// ---------------------------------------------------------------------------------------

struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    _dir: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn serve_http(http: HttpConfig) -> Server {
    let (store, dir) = sqlite().await;
    let engine = Engine::new(
        store.clone(),
        factory(),
        EngineConfig {
            worker_id: "test-http".into(),
            lease_ttl: Duration::from_secs(60),
        },
    );
    let state = AppState::new(
        store,
        factory(),
        atsbridge_test_support::sagehr::tools(),
        engine,
        ServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(serve_with(listener, app(state), http, async move {
        stop.cancelled().await;
    }));
    Server {
        addr,
        shutdown,
        _dir: dir,
    }
}

/// How long until the server closes `stream` (reading and discarding what it sends).
async fn time_until_closed(stream: &mut TcpStream, within: Duration) -> Duration {
    let started = Instant::now();
    let mut sink = [0u8; 1024];
    loop {
        match tokio::time::timeout(within, stream.read(&mut sink)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the connection was still open after {within:?}"),
        }
    }
}

#[tokio::test]
async fn a_client_slow_to_send_its_request_head_is_disconnected() {
    let server = serve_http(HttpConfig {
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(30),
        max_connections: 16,
    })
    .await;
    // Half a request line.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /hea").await.unwrap();
    let waited = time_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    // Nothing at all.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let waited = time_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    // Headers a byte at a time, the whole head taking longer than the limit.
    let mut trickle = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let closed = async {
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if trickle.write_all(&[*byte]).await.is_err() {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        unreachable!()
    };
    let waited = tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("a trickling head is cut off");
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    // A prompt request is served.
    let (status, _, _) = exchange(
        &server.addr.to_string(),
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let server = serve_http(HttpConfig {
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_millis(300),
        max_connections: 16,
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (status, _, _) = read_response(&mut stream).await;
    assert_eq!(status, 200);
    let waited = time_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
}

#[tokio::test]
async fn connections_above_the_cap_wait_until_one_closes() {
    let server = serve_http(HttpConfig {
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        max_connections: 1,
    })
    .await;
    let first = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    second
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), second.read(&mut byte))
            .await
            .is_err(),
        "the second connection was served while the first held the only slot"
    );
    drop(first);
    let (status, _, _) = read_response(&mut second).await;
    assert_eq!(status, 200);
}
