//! Against loopback servers the tests start themselves.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

use super::*;

const DEADLINE: Duration = Duration::from_secs(10);

/// What the test server does with a request for a path.
enum Reply {
    /// These bytes, then the connection is closed.
    Raw(String),
    /// These bytes, then nothing more while the connection stays open.
    Stall(String),
}

fn ok(body: &str) -> Reply {
    Reply::Raw(format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ))
}

fn redirect(status: u16, location: &str) -> Reply {
    Reply::Raw(format!(
        "HTTP/1.1 {status} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    ))
}

/// A server on 127.0.0.1 answering each request's path with `reply(path, own address)`;
/// returns its address and how many requests it has read.
async fn server(
    reply: impl Fn(&str, SocketAddr) -> Reply + Send + Sync + 'static,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let reply = reply.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let head = String::from_utf8_lossy(&head);
                let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                match reply(&path, addr) {
                    Reply::Raw(bytes) => {
                        let _ = socket.write_all(bytes.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    }
                    Reply::Stall(bytes) => {
                        let _ = socket.write_all(bytes.as_bytes()).await;
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                }
            });
        }
    });
    (addr, seen)
}

/// `/hops/N` redirects to `/hops/N-1` until `/hops/0`, which answers "done".
async fn chain_server() -> (SocketAddr, Arc<AtomicUsize>) {
    server(|path, _| match path.strip_prefix("/hops/") {
        Some("0") => ok("done"),
        Some(n) => redirect(302, &format!("/hops/{}", n.parse::<u32>().unwrap() - 1)),
        None => ok("root"),
    })
    .await
}

fn strict_treating_as_public(addr: SocketAddr) -> Outbound {
    Outbound {
        treated_as_public: Some(addr),
        ..Outbound::new(false)
    }
}

async fn get(
    outbound: &Outbound,
    url: &str,
    redirects: Redirects,
) -> Result<OutboundResponse, OutboundError> {
    outbound
        .send(OutboundRequest::get(url), DEADLINE, redirects)
        .await
}

#[tokio::test]
async fn loopback_is_refused_unless_private_addresses_are_allowed() {
    let (addr, seen) = server(|_, _| ok("hi")).await;
    let url = format!("http://{addr}/x");
    let err = get(&Outbound::new(false), &url, Redirects::Follow(3))
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::NotPublic { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("`{url}` is not a public address"));
    assert_eq!(seen.load(Ordering::SeqCst), 0, "nothing was sent");

    let response = get(&Outbound::new(true), &url, Redirects::Follow(3))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes_capped(100).await.unwrap(), b"hi");
}

#[tokio::test]
async fn localhost_is_refused_by_name() {
    let (addr, seen) = server(|_, _| ok("hi")).await;
    // Even with the loopback server treated as public: the name itself is refused.
    let outbound = strict_treating_as_public(addr);
    for host in ["localhost", "LOCALHOST", "a.localhost", "localhost."] {
        let url = format!("http://{host}:{}/x", addr.port());
        let err = get(&outbound, &url, Redirects::Return).await.unwrap_err();
        assert!(
            matches!(err, OutboundError::NotPublic { .. }),
            "{host}: {err:?}"
        );
    }
    assert_eq!(seen.load(Ordering::SeqCst), 0);
    // Allowed, it is resolved and called like any other name.
    let url = format!("http://localhost:{}/x", addr.port());
    let response = get(&Outbound::new(true), &url, Redirects::Return).await;
    // Some machines resolve localhost to ::1 first, where nothing listens; either way the
    // name was not refused.
    assert!(
        !matches!(response, Err(OutboundError::NotPublic { .. })),
        "{response:?}"
    );
}

#[tokio::test]
async fn credentials_and_other_schemes_are_refused() {
    let (addr, seen) = server(|_, _| ok("hi")).await;
    let outbound = Outbound::new(true);
    let err = get(
        &outbound,
        &format!("http://user:secret@{addr}/x"),
        Redirects::Return,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, OutboundError::Credentials { .. }), "{err:?}");
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(err
        .to_string()
        .contains("credentials in URLs are not supported"));
    for url in [
        "ftp://example.com/x".to_owned(),
        "file:///etc/passwd".to_owned(),
        format!("gopher://{addr}/x"),
    ] {
        let err = get(&outbound, &url, Redirects::Return).await.unwrap_err();
        assert!(
            matches!(err, OutboundError::NotHttp { .. }),
            "{url}: {err:?}"
        );
    }
    let err = get(&outbound, "not a url", Redirects::Return)
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::NotUrl { .. }), "{err:?}");
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn three_redirects_are_followed_and_a_fourth_is_refused() {
    let (addr, seen) = chain_server().await;
    let outbound = strict_treating_as_public(addr);
    let response = get(
        &outbound,
        &format!("http://{addr}/hops/3"),
        Redirects::Follow(3),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.url().path(), "/hops/0");
    assert_eq!(response.bytes_capped(100).await.unwrap(), b"done");
    assert_eq!(seen.load(Ordering::SeqCst), 4);

    let url = format!("http://{addr}/hops/4");
    let err = get(&outbound, &url, Redirects::Follow(3))
        .await
        .unwrap_err();
    assert!(
        matches!(err, OutboundError::TooManyRedirects { max: 3, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("`{url}` redirected more than 3 times")
    );
}

#[tokio::test]
async fn every_redirect_target_is_checked_again() {
    // `inside` stands for an internal service; `outside` (treated as public) redirects there.
    let (inside, inside_seen) = server(|_, _| ok("secret")).await;
    let (outside, outside_seen) = server(move |path, own| match path {
        "/to-inside" => redirect(302, &format!("http://{inside}/admin")),
        "/to-localhost" => redirect(307, &format!("http://localhost:{}/x", own.port())),
        "/to-credentials" => redirect(302, &format!("http://u:p@{own}/x")),
        "/to-ftp" => redirect(302, "ftp://example.com/x"),
        _ => ok("public"),
    })
    .await;
    let outbound = strict_treating_as_public(outside);
    for (path, refused) in [
        ("/to-inside", "not public"),
        ("/to-localhost", "not public"),
        ("/to-credentials", "credentials"),
        ("/to-ftp", "not http"),
    ] {
        let err = get(
            &outbound,
            &format!("http://{outside}{path}"),
            Redirects::Follow(3),
        )
        .await
        .unwrap_err();
        let expected = match refused {
            "not public" => matches!(err, OutboundError::NotPublic { .. }),
            "credentials" => matches!(err, OutboundError::Credentials { .. }),
            _ => matches!(err, OutboundError::NotHttp { .. }),
        };
        assert!(expected, "{path}: {err:?}");
    }
    assert_eq!(inside_seen.load(Ordering::SeqCst), 0, "never called");
    assert_eq!(
        outside_seen.load(Ordering::SeqCst),
        4,
        "one request per case"
    );
    // The same redirect is followed where private addresses are allowed.
    let response = get(
        &Outbound::new(true),
        &format!("http://{outside}/to-inside"),
        Redirects::Follow(3),
    )
    .await
    .unwrap();
    assert_eq!(response.bytes_capped(100).await.unwrap(), b"secret");
}

#[tokio::test]
async fn under_return_a_redirect_is_the_answer() {
    let (addr, seen) = chain_server().await;
    let response = get(
        &Outbound::new(true),
        &format!("http://{addr}/hops/1"),
        Redirects::Return,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(seen.load(Ordering::SeqCst), 1, "not followed");
}

#[tokio::test]
async fn a_silent_server_hits_the_deadline() {
    let (addr, _) = server(|path, _| match path {
        "/half" => {
            Reply::Stall("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly some".to_owned())
        }
        _ => Reply::Stall(String::new()),
    })
    .await;
    let outbound = Outbound::new(true);
    let short = Duration::from_millis(300);
    let err = outbound
        .send(
            OutboundRequest::get(format!("http://{addr}/silent")),
            short,
            Redirects::Return,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::Timeout), "{err:?}");
    assert_eq!(err.to_string(), "timed out");
    // The deadline covers the body too.
    let response = outbound
        .send(
            OutboundRequest::get(format!("http://{addr}/half")),
            short,
            Redirects::Return,
        )
        .await
        .unwrap();
    let err = response.bytes_capped(1000).await.unwrap_err();
    assert!(matches!(err, OutboundError::Timeout), "{err:?}");
}

#[tokio::test]
async fn a_closed_port_cannot_connect() {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = get(
        &Outbound::new(true),
        &format!("http://{addr}/"),
        Redirects::Return,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, OutboundError::Connect), "{err:?}");
}

#[tokio::test]
async fn bodies_over_the_cap_are_refused() {
    let big = "x".repeat(1000);
    let declared = ok(&big);
    let Reply::Raw(declared) = declared else {
        unreachable!()
    };
    // Chunked: no length up front, so the cap is found while streaming.
    let chunked = format!(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    let (addr, _) = server(move |path, _| match path {
        "/declared" => Reply::Raw(declared.clone()),
        _ => Reply::Raw(chunked.clone()),
    })
    .await;
    let outbound = Outbound::new(true);
    for path in ["/declared", "/chunked"] {
        let url = format!("http://{addr}{path}");
        let response = get(&outbound, &url, Redirects::Return).await.unwrap();
        let err = response.bytes_capped(999).await.unwrap_err();
        assert!(
            matches!(err, OutboundError::TooLarge { cap: 999, .. }),
            "{path}: {err:?}"
        );
        let response = get(&outbound, &url, Redirects::Return).await.unwrap();
        assert_eq!(
            response.bytes_capped(1000).await.unwrap().len(),
            1000,
            "{path}"
        );
    }
}

#[tokio::test]
async fn check_applies_the_same_rules_without_sending() {
    let strict = Outbound::new(false);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://[::ffff:7f00:1]/hook",
    ] {
        let err = strict.check(url, DEADLINE).await.unwrap_err();
        assert!(
            matches!(err, OutboundError::NotPublic { .. }),
            "{url}: {err:?}"
        );
    }
    let target = strict
        .check("https://93.184.215.14/hook", DEADLINE)
        .await
        .unwrap();
    assert_eq!(target.url().as_str(), "https://93.184.215.14/hook");
    assert!(Outbound::new(true)
        .check("http://127.0.0.1:9/hook", DEADLINE)
        .await
        .is_ok());
}

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
        assert!(internal(ip), "{ip}");
    }
    for ip in [
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "93.184.216.34",
    ] {
        assert!(!internal(ip), "{ip}");
    }
}

fn internal(ip: &str) -> bool {
    is_internal(ip.parse().unwrap())
}

#[test]
fn ipv4_in_6to4_is_checked() {
    // 2002:AABB:CCDD::/48 relays to AA.BB.CC.DD.
    for ip in [
        "2002:7f00:1::1",     // 127.0.0.1
        "2002:a00:1::",       // 10.0.0.1
        "2002:c0a8:101:1::1", // 192.168.1.1
        "2002:a9fe:a9fe::1",  // 169.254.169.254
        "2002:6440:1::1",     // 100.64.0.1
        "2002::1",            // 0.0.0.0
    ] {
        assert!(internal(ip), "{ip}");
    }
    assert!(!internal("2002:808:808::1"), "8.8.8.8");
}

#[test]
fn ipv4_in_teredo_is_checked() {
    // 2001:0:SERVER:FLAGS:PORT:~CLIENT, the client's address inverted.
    let teredo = |server: [u8; 4], client: [u8; 4]| {
        let inv = client.map(|b| !b);
        format!(
            "2001:0:{:x}:{:x}:0:0:{:x}:{:x}",
            u16::from_be_bytes([server[0], server[1]]),
            u16::from_be_bytes([server[2], server[3]]),
            u16::from_be_bytes([inv[0], inv[1]]),
            u16::from_be_bytes([inv[2], inv[3]]),
        )
    };
    let public = [8, 8, 8, 8];
    for private in [
        [127, 0, 0, 1],
        [10, 1, 2, 3],
        [169, 254, 169, 254],
        [192, 168, 0, 1],
    ] {
        assert!(internal(&teredo(public, private)), "client {private:?}");
        assert!(internal(&teredo(private, public)), "server {private:?}");
    }
    assert!(!internal(&teredo(public, [1, 1, 1, 1])));
    // RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (documentation).
    assert!(internal("2001:0:4136:e378:8000:63bf:3fff:fdd2"));
}

#[test]
fn nat64_prefixes_are_checked() {
    // The well-known prefix embeds the IPv4 address in the last 32 bits.
    assert!(internal("64:ff9b::7f00:1"));
    assert!(internal("64:ff9b::a9fe:a9fe"));
    assert!(!internal("64:ff9b::808:808"));
    // The local-use prefix is the operator's: none of it is public.
    assert!(internal("64:ff9b:1::808:808"));
    assert!(internal("64:ff9b:1:ffff::1"));
    assert!(!internal("64:ff9b:2::808:808"));
}

#[test]
fn ipv4_mapped_and_translated_are_checked() {
    assert!(internal("::ffff:127.0.0.1"));
    assert!(internal("::ffff:10.0.0.1"));
    assert!(!internal("::ffff:8.8.8.8"));
    assert!(internal("::ffff:0:127.0.0.1"));
    assert!(internal("::ffff:0:192.168.1.1"));
    assert!(!internal("::ffff:0:8.8.8.8"));
    assert!(internal("::127.0.0.1"));
    assert!(!internal("2606:4700:4700::1111"));
}
