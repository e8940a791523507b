//! The control API (axum, HTTP on 127.0.0.1 by default): list and inspect modems,
//! inject faults, toggle DTR, Prometheus metrics. Endpoints in `docs/control-api.md`.
//!
//! Each driver registers in the [`Registry`] with a request channel; a request is
//! answered by the driver's own loop, so the API never touches a core directly.

use at7600_core::{Metrics, Status};
use at7600_net::Fault;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// How long the API waits for a driver to answer.
const ANSWER: Duration = Duration::from_secs(2);

/// What a modem reports about itself.
#[derive(Clone, Debug)]
pub struct View {
    /// The core's state.
    pub status: Status,
    /// The core's counters.
    pub metrics: Metrics,
    /// Faults carried out on this modem.
    pub faults: u64,
}

/// A request to one driver.
#[derive(Debug)]
pub enum Request {
    /// Report a [`View`].
    View(oneshot::Sender<View>),
    /// Carry out a fault.
    Fault(Fault, oneshot::Sender<Result<(), String>>),
}

/// Registered modems: the last id given, and id -> (front end, request sender).
type Modems = (u64, BTreeMap<u64, (String, mpsc::UnboundedSender<Request>)>);

/// The modems of this process.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Modems>,
}

impl Registry {
    /// Registers a modem; returns its id and its request stream.
    pub fn register(&self, front_end: &str) -> (u64, mpsc::UnboundedReceiver<Request>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 += 1;
        let id = inner.0;
        inner.1.insert(id, (front_end.to_string(), tx));
        (id, rx)
    }

    /// Forgets a modem.
    pub fn unregister(&self, id: u64) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.remove(&id);
    }

    fn modems(&self) -> Vec<(u64, String, mpsc::UnboundedSender<Request>)> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .1
            .iter()
            .map(|(id, (f, tx))| (*id, f.clone(), tx.clone()))
            .collect()
    }

    /// How many modems are registered.
    pub fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.len()
    }

    /// No modem is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn modem(&self, id: u64) -> Option<(String, mpsc::UnboundedSender<Request>)> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.get(&id).cloned()
    }
}

/// How the control API protects itself and the daemon from its clients.
#[derive(Clone, Debug)]
pub struct Options {
    /// Connections served at once. Further clients wait in the listen backlog, unaccepted
    /// (they hold no descriptor of ours) until a connection ends. Default 64.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, counted from when the
    /// connection is accepted or its previous answer was sent; an idle or half-sent
    /// connection is closed then. Default 10 s.
    pub header_timeout: Duration,
    /// How long one request may take from its headers to its answer (its body included);
    /// past it the client gets 408 and the connection is closed. Default 30 s.
    pub request_timeout: Duration,
    /// If set, every request must carry `Authorization: Bearer <token>`. Required when
    /// the API listens anywhere but on the loopback.
    pub token: Option<String>,
    /// The daemon's listeners that modems may not reach; the API adds its own address.
    pub own: at7600_net::OwnListeners,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_connections: 64,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            token: None,
            own: at7600_net::OwnListeners::default(),
        }
    }
}

/// Binds the API on `addr`, says where on standard error, and serves it in the
/// background. Refuses an address off the loopback without a token: the API can
/// inject faults into every modem and shows everything they do.
pub async fn start(
    addr: std::net::SocketAddr,
    options: Options,
) -> anyhow::Result<(Arc<Registry>, std::net::SocketAddr)> {
    use anyhow::Context as _;
    if !addr.ip().is_loopback() && options.token.is_none() {
        anyhow::bail!(
            "the control API on {addr} would be reachable off this host: give it a token \
             (--control-token, [control] token or AT7600_CONTROL_TOKEN), or bind it to \
             the loopback"
        );
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for the control API"))?;
    let bound = listener.local_addr()?;
    let auth = if options.token.is_some() {
        " (bearer token required)"
    } else {
        ""
    };
    tracing::debug!(%bound, token = options.token.is_some(), "control API");
    eprintln!("at7600: control API on http://{bound}{auth}");
    let registry = Arc::new(Registry::default());
    let own = options.own.add(bound);
    let registry_for_api = registry.clone();
    tokio::spawn(async move {
        // Off limits to modems for as long as the API serves.
        let _own = own;
        serve(listener, registry_for_api, options).await;
    });
    Ok((registry, bound))
}

/// Serves the API on `listener` until the process ends, within `options`' limits.
pub async fn serve(listener: tokio::net::TcpListener, registry: Arc<Registry>, options: Options) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = Router::new()
        .route("/modems", get(list))
        .route("/modems/{id}", get(show))
        .route("/modems/{id}/fault", post(fault))
        .route("/modems/{id}/dtr", post(dtr))
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .with_state(registry);
    let app = hyper_util::service::TowerToHyperService::new(app);
    let options = Arc::new(options);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    loop {
        // A slot first, then accept: past the limit, clients wait in the kernel's
        // backlog and cost this process nothing.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, say: back off rather than spin.
                tracing::warn!(error = %e, "control API: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let app = app.clone();
        let options = options.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let header_timeout = options.header_timeout.max(Duration::from_millis(1));
            let service = hyper::service::service_fn(move |req| {
                let options = options.clone();
                let answer = authorized(&req, options.token.as_deref())
                    .then(|| hyper::service::Service::call(&app, req));
                async move {
                    let Some(answer) = answer else {
                        return Ok::<_, std::convert::Infallible>(unauthorized());
                    };
                    match tokio::time::timeout(options.request_timeout, answer).await {
                        Ok(Ok(response)) => Ok(response),
                        Ok(Err(never)) => match never {},
                        Err(_) => Ok(too_slow()),
                    }
                }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(%peer, error = %e, "control API connection ended");
            }
        });
    }
}

/// Whether the request carries the bearer token, if one is required. The bytes are
/// all compared, wherever the first difference is.
fn authorized<B>(req: &axum::http::Request<B>, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let (a, b) = (given.as_bytes(), token.as_bytes());
    let diff = a
        .iter()
        .zip(b)
        .fold(a.len() ^ b.len(), |d, (x, y)| d | usize::from(x ^ y));
    diff == 0
}

fn unauthorized() -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "a bearer token is required");
    r.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    r
}

/// The request took too long (its body never came, say): answer and close.
fn too_slow() -> Response {
    let mut r = error(StatusCode::REQUEST_TIMEOUT, "request timed out");
    r.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    r
}

async fn view(tx: &mpsc::UnboundedSender<Request>) -> Option<View> {
    let (reply, rx) = oneshot::channel();
    tx.send(Request::View(reply)).ok()?;
    tokio::time::timeout(ANSWER, rx).await.ok()?.ok()
}

fn to_json(id: u64, front_end: &str, v: &View) -> Value {
    let s = &v.status;
    let state = if s.data_mode {
        "data"
    } else if s.network_lost {
        "network-lost"
    } else if s.network_open {
        "network-open"
    } else {
        "idle"
    };
    let links: Vec<Value> = s
        .links
        .iter()
        .map(|l| {
            json!({
                "link": l.link, "conn": l.conn.to_string(),
                "protocol": format!("{:?}", l.protocol).to_lowercase(),
                "state": format!("{:?}", l.state), "remote": l.remote.to_string(),
                "sent": l.sent, "acked": l.acked, "received": l.received, "buffered": l.buffered,
            })
        })
        .collect();
    let m = &v.metrics;
    json!({
        "id": id, "front_end": front_end, "state": state, "dtr": s.dtr,
        "ip": s.ip.map(|ip| ip.to_string()),
        "rssi": s.radio.rssi, "reg_status": s.radio.reg_status,
        "links": links,
        "counters": {
            "commands": m.commands, "errors": m.errors, "urcs": m.urcs,
            "host_bytes_in": m.host_bytes_in, "host_bytes_out": m.host_bytes_out,
            "net_bytes_sent": m.net_bytes_sent, "net_bytes_received": m.net_bytes_received,
            "faults": v.faults,
        },
    })
}

fn error(code: StatusCode, msg: impl Into<String>) -> Response {
    (code, Json(json!({ "error": msg.into() }))).into_response()
}

async fn list(State(reg): State<Arc<Registry>>) -> Response {
    let mut out = Vec::new();
    for (id, front_end, tx) in reg.modems() {
        if let Some(v) = view(&tx).await {
            out.push(to_json(id, &front_end, &v));
        }
    }
    Json(Value::Array(out)).into_response()
}

async fn show(State(reg): State<Arc<Registry>>, Path(id): Path<u64>) -> Response {
    let Some((front_end, tx)) = reg.modem(id) else {
        return error(StatusCode::NOT_FOUND, format!("no modem {id}"));
    };
    match view(&tx).await {
        Some(v) => Json(to_json(id, &front_end, &v)).into_response(),
        None => error(StatusCode::SERVICE_UNAVAILABLE, "modem did not answer"),
    }
}

async fn inject(reg: &Registry, id: u64, f: Fault) -> Response {
    let Some((_, tx)) = reg.modem(id) else {
        return error(StatusCode::NOT_FOUND, format!("no modem {id}"));
    };
    let (reply, rx) = oneshot::channel();
    if tx.send(Request::Fault(f, reply)).is_err() {
        return error(StatusCode::NOT_FOUND, format!("modem {id} is gone"));
    }
    match tokio::time::timeout(ANSWER, rx).await {
        Ok(Ok(Ok(()))) => Json(json!({ "ok": true })).into_response(),
        Ok(Ok(Err(e))) => error(StatusCode::CONFLICT, e),
        _ => error(StatusCode::SERVICE_UNAVAILABLE, "modem did not answer"),
    }
}

async fn fault(
    State(reg): State<Arc<Registry>>,
    Path(id): Path<u64>,
    body: Result<Json<Fault>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(Json(f)) => inject(&reg, id, f).await,
        Err(e) => error(StatusCode::BAD_REQUEST, e.body_text()),
    }
}

/// `POST /modems/{id}/dtr` body.
#[derive(Deserialize)]
struct Dtr {
    on: bool,
}

async fn dtr(
    State(reg): State<Arc<Registry>>,
    Path(id): Path<u64>,
    body: Result<Json<Dtr>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(Json(d)) => inject(&reg, id, Fault::Dtr { on: d.on }).await,
        Err(e) => error(StatusCode::BAD_REQUEST, e.body_text()),
    }
}

/// `GET /health`: the API answers, without asking any modem (a health check must stay
/// cheap with 10,000 of them).
async fn health(State(reg): State<Arc<Registry>>) -> Response {
    Json(json!({"status": "ok", "modems": reg.len()})).into_response()
}

async fn metrics(State(reg): State<Arc<Registry>>) -> Response {
    let mut views = Vec::new();
    for (id, front_end, tx) in reg.modems() {
        if let Some(v) = view(&tx).await {
            views.push((id, front_end, v));
        }
    }
    let body = prometheus(&views);
    ([("content-type", "text/plain; version=0.0.4")], body).into_response()
}

/// Prometheus text format: one family per counter, per modem and in total.
fn prometheus(views: &[(u64, String, View)]) -> String {
    type Get = fn(&View) -> u64;
    let families: [(&str, &str, &str, Get); 9] = [
        ("at7600_commands_total", "counter", "AT commands run", |v| {
            v.metrics.commands
        }),
        (
            "at7600_errors_total",
            "counter",
            "commands answered ERROR",
            |v| v.metrics.errors,
        ),
        (
            "at7600_urcs_total",
            "counter",
            "unsolicited result codes",
            |v| v.metrics.urcs,
        ),
        (
            "at7600_host_bytes_in_total",
            "counter",
            "bytes from the host",
            |v| v.metrics.host_bytes_in,
        ),
        (
            "at7600_host_bytes_out_total",
            "counter",
            "bytes to the host",
            |v| v.metrics.host_bytes_out,
        ),
        (
            "at7600_net_bytes_sent_total",
            "counter",
            "payload bytes sent",
            |v| v.metrics.net_bytes_sent,
        ),
        (
            "at7600_net_bytes_received_total",
            "counter",
            "payload bytes received",
            |v| v.metrics.net_bytes_received,
        ),
        ("at7600_faults_total", "counter", "faults injected", |v| {
            v.faults
        }),
        ("at7600_links", "gauge", "links in use", |v| {
            v.status.links.len() as u64
        }),
    ];
    let mut out = format!(
        "# HELP at7600_modems modems running\n# TYPE at7600_modems gauge\nat7600_modems {}\n",
        views.len()
    );
    for (name, kind, help, get) in families {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        let mut total = 0;
        for (id, front_end, v) in views {
            let n = get(v);
            total += n;
            out.push_str(&format!(
                "{name}{{modem=\"{id}\",front_end=\"{front_end}\"}} {n}\n"
            ));
        }
        out.push_str(&format!("{name}{{modem=\"all\"}} {total}\n"));
    }
    out
}
