//! The HTTP server. It runs its own accept loop (instead of `axum::serve`) so that a `drop`
//! fault can close a connection without writing any response, which a handler cannot do.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use crate::api::{self, endpoint_of};
use crate::faults::{Decision, Outcome};
use crate::state::{lock, Sim, Tenant};
use std::sync::{Arc, Mutex};

/// The whole application: the Sage HR API and the control API.
pub fn app(sim: Sim) -> Router {
    api::router()
        .merge(crate::control::router())
        .layer(DefaultBodyLimit::max(api::MAX_BODY_BYTES))
        .with_state(sim)
}

/// The error a `drop` fault hands to hyper, which then closes the connection unanswered.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Counts a tenant's request as in flight until dropped.
struct InFlight(Arc<Mutex<Tenant>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut t = lock(&self.0);
        t.in_flight = t.in_flight.saturating_sub(1);
    }
}

/// Counts the request and decides its faults, for requests to a tenant's API.
fn admit(sim: &Sim, req: &Request<Incoming>) -> (Decision, Option<InFlight>) {
    let serve = Decision {
        delay: std::time::Duration::ZERO,
        outcome: Outcome::Serve,
    };
    let path = req.uri().path();
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let (Some(subdomain), Some("api")) = (parts.next(), parts.next()) else {
        return (serve, None);
    };
    let Some(tenant) = sim.tenant(subdomain) else {
        return (serve, None);
    };
    let rest = parts.next().unwrap_or_default();
    let endpoint = endpoint_of(req.method().as_str(), rest).unwrap_or("other");
    let mut t = lock(&tenant);
    *t.stats.entry(endpoint.to_owned()).or_default() += 1;
    // Hooks count requests the way stats do and change the data before anything is served,
    // so the request that fires them (and any retry of it) sees the changed data.
    crate::hooks::on_request(&mut t, endpoint);
    t.in_flight += 1;
    t.max_in_flight = t.max_in_flight.max(t.in_flight);
    let decision = t.faults.decide(endpoint);
    drop(t);
    (decision, Some(InFlight(tenant)))
}

async fn handle(
    sim: Sim,
    router: Router,
    req: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let (decision, _in_flight) = admit(&sim, &req);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let json = |status: StatusCode, body: &str| {
        let mut r = Response::new(Body::from(body.to_owned()));
        *r.status_mut() = status;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    match decision.outcome {
        Outcome::Serve => {
            let response = router.oneshot(req.map(Body::new)).await;
            Ok(response.unwrap_or_else(|e: Infallible| match e {}))
        }
        Outcome::Drop => Err(Dropped),
        Outcome::RateLimit { retry_after } => {
            let mut r = json(
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"error_code":"too_many_requests","errors":["Rate limit exceeded"]}"#,
            );
            if retry_after > 0 {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            Ok(r)
        }
        Outcome::ServerError => Ok(json(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"error_code":"internal_server_error","errors":["Something went wrong"]}"#,
        )),
        Outcome::Malformed => Ok(json(
            StatusCode::OK,
            r#"{"data": [{"id": 1, "title": "Trunc"#,
        )),
    }
}

/// Serves until `shutdown` resolves, then lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    sim: Sim,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = app(sim.clone());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // Out of file descriptors and the like: keep serving the connections we have.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let sim = sim.clone();
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |req| handle(sim.clone(), router.clone(), req));
        let conn = hyper::server::conn::http1::Builder::new()
            .keep_alive(true)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are clients going away or injected drops; nothing to report.
            let _ = conn.await;
        });
    }
    graceful.shutdown().await;
    Ok(())
}

/// A simulator serving in the background on a loopback port of its own, for tests and the
/// demo. Dropping it stops the server.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    pub sim: Sim,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of one tenant's API, as Sage HR's `https://{subdomain}.sage.hr/api`.
    pub fn base_url(&self, subdomain: &str) -> String {
        format!("http://{}/{subdomain}/api", self.addr)
    }

    /// Stops accepting, waits for open requests, and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `127.0.0.1:0` and serves `sim` in the background.
pub async fn spawn(sim: Sim) -> std::io::Result<Running> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, sim.clone(), async move {
        let _ = stopped.await;
    }));
    Ok(Running {
        addr,
        sim,
        stop: Some(stop),
        task,
    })
}
