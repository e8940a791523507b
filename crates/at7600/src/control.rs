//! The control API (axum, HTTP on 127.0.0.1 by default): list and inspect modems,
//! inject faults, toggle DTR, watch them live, Prometheus metrics (`docs/metrics.md`),
//! and the dashboard page. Endpoints in `docs/control-api.md`; their description at
//! `/openapi.json`.
//!
//! Each driver registers in the [`Registry`] with a request channel; a request is
//! answered by the driver's own loop, so the API never touches a core directly.

pub mod api;
pub mod dashboard;
pub mod openapi;
pub mod tap;

use api::{ApiError, Body, Done, Dtr, Id, LiveModem, Rates, TapDir, TapLine};
use at7600_core::{Metrics, Status};
use at7600_net::Fault;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot, Semaphore};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod metrics;
pub use metrics::Totals;

/// How long the API waits for a driver to answer.
const ANSWER: Duration = Duration::from_secs(2);

/// How often `GET /events/modems` sends the list.
const LIVE_EVERY: Duration = Duration::from_secs(1);

/// What a modem reports about itself.
#[derive(Clone, Debug)]
pub struct View {
    /// The core's state.
    pub status: Status,
    /// The core's counters.
    pub metrics: Metrics,
    /// Faults carried out on this modem.
    pub faults: u64,
    /// The last command lines the host typed, oldest first.
    pub last_commands: Vec<String>,
}

/// A request to one driver.
#[derive(Debug)]
pub enum Request {
    /// Report a [`View`].
    View(oneshot::Sender<View>),
    /// Carry out a fault.
    Fault(Fault, oneshot::Sender<Result<(), String>>),
    /// A reader of the modem's line from now on (see [`tap::Tap`]).
    Tap(oneshot::Sender<broadcast::Receiver<TapLine>>),
}

/// Registered modems: the last id given, and id -> (front end, request sender).
type Modems = (u64, BTreeMap<u64, (String, mpsc::UnboundedSender<Request>)>);

/// The modems of this process.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Modems>,
    /// What `/metrics` keeps: each modem's IMEI and last counters, and the totals of
    /// the modems gone, so process-wide counters never go down.
    ledger: Mutex<metrics::Ledger>,
}

impl Registry {
    /// A registry whose `/metrics` has per-modem series or not (see `docs/metrics.md`).
    pub fn new(per_modem: bool) -> Registry {
        Registry {
            inner: Mutex::default(),
            ledger: Mutex::new(metrics::Ledger::new(per_modem)),
        }
    }

    /// Registers a modem (its front end and IMEI label its metrics); returns its id and
    /// its request stream.
    pub fn register(&self, front_end: &str, imei: &str) -> (u64, mpsc::UnboundedReceiver<Request>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 += 1;
        let id = inner.0;
        inner.1.insert(id, (front_end.to_string(), tx));
        self.ledger().join(id, front_end, imei);
        (id, rx)
    }

    /// Forgets a modem; its final counters stay in the process-wide totals.
    pub fn unregister(&self, id: u64, last: Totals) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.remove(&id);
        self.ledger().leave(id, last);
    }

    fn ledger(&self) -> std::sync::MutexGuard<'_, metrics::Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
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
    /// Whether `/metrics` has per-modem series (labelled by IMEI) beside the
    /// process-wide ones. Default on; off for large fleets.
    pub per_modem: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_connections: 64,
            header_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            token: None,
            own: at7600_net::OwnListeners::default(),
            per_modem: true,
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
    let registry = Arc::new(Registry::new(options.per_modem));
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
/// The API's routes, each described in the OpenAPI document by construction (utoipa
/// collects a route's description as the route is added). `/metrics` is routed and
/// described apart (see [`openapi::document`]).
pub fn routes() -> OpenApiRouter<Arc<Registry>> {
    OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(list))
        .routes(routes!(health))
        .routes(routes!(show))
        .routes(routes!(fault))
        .routes(routes!(dtr))
        .routes(routes!(live_modems))
        .routes(routes!(transcript))
        .routes(routes!(openapi::serve_document))
        .merge(dashboard::routes())
}

/// The API as a service: [`routes()`], `/metrics`, and the one error shape for requests
/// that match no route or no method.
pub fn router(registry: Arc<Registry>) -> Router {
    let (routes, _) = routes().split_for_parts();
    routes
        .route("/metrics", get(metrics::metrics))
        .fallback(no_route)
        .method_not_allowed_fallback(no_method)
        .with_state(registry)
}

async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no endpoint {}", uri.path()))
}

async fn no_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not take {method}", uri.path()),
    )
}

/// Serves the API on `listener` until the process ends, within `options`' limits.
pub async fn serve(listener: tokio::net::TcpListener, registry: Arc<Registry>, options: Options) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = hyper_util::service::TowerToHyperService::new(router(registry));
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
                let answer = (dashboard::is_page(&req)
                    || authorized(&req, options.token.as_deref()))
                .then(|| hyper::service::Service::call(&app, req));
                async move {
                    let Some(answer) = answer else {
                        return Ok::<_, std::convert::Infallible>(unauthorized());
                    };
                    // The answer's head must come in time; a stream (server-sent
                    // events) then goes on for as long as its reader stays.
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
    let mut r =
        ApiError::new(StatusCode::UNAUTHORIZED, "a bearer token is required").into_response();
    r.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    r
}

/// The request took too long (its body never came, say): answer and close.
fn too_slow() -> Response {
    let mut r = ApiError::new(StatusCode::REQUEST_TIMEOUT, "request timed out").into_response();
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

/// A modem's [`View`] as the API shows it.
pub fn to_api(id: u64, front_end: &str, v: &View) -> api::Modem {
    let s = &v.status;
    let state = if s.data_mode {
        api::ModemState::Data
    } else if s.network_lost {
        api::ModemState::NetworkLost
    } else if s.network_open {
        api::ModemState::NetworkOpen
    } else {
        api::ModemState::Idle
    };
    let links = s
        .links
        .iter()
        .map(|l| api::Link {
            link: l.link,
            conn: l.conn.to_string(),
            protocol: format!("{:?}", l.protocol).to_lowercase(),
            state: format!("{:?}", l.state),
            remote: l.remote.to_string(),
            sent: l.sent,
            acked: l.acked,
            received: l.received,
            buffered: l.buffered as u64,
        })
        .collect();
    let m = &v.metrics;
    api::Modem {
        id,
        front_end: front_end.to_string(),
        state,
        dtr: s.dtr,
        ip: s.ip.map(|ip| ip.to_string()),
        rssi: s.radio.rssi,
        reg_status: s.radio.reg_status,
        links,
        counters: api::Counters {
            commands: m.commands,
            errors: m.errors,
            urcs: m.urcs,
            host_bytes_in: m.host_bytes_in,
            host_bytes_out: m.host_bytes_out,
            net_bytes_sent: m.net_bytes_sent,
            net_bytes_received: m.net_bytes_received,
            faults: v.faults,
        },
        last_commands: v.last_commands.clone(),
    }
}

/// Every modem that answers in time.
async fn all_modems(reg: &Registry) -> Vec<api::Modem> {
    let mut out = Vec::new();
    for (id, front_end, tx) in reg.modems() {
        if let Some(v) = view(&tx).await {
            out.push(to_api(id, &front_end, &v));
        }
    }
    out
}

/// The modems of this process.
#[utoipa::path(get, path = "/modems", tag = "modems",
    responses((status = 200, description = "Every modem", body = [api::Modem])))]
async fn list(State(reg): State<Arc<Registry>>) -> Json<Vec<api::Modem>> {
    Json(all_modems(&reg).await)
}

/// Is the API up: answered without asking any modem, so a container's or an
/// orchestrator's health check stays cheap with 10,000 of them.
#[utoipa::path(get, path = "/health", tag = "modems",
    responses((status = 200, description = "The API answers", body = api::Health)))]
async fn health(State(reg): State<Arc<Registry>>) -> Json<api::Health> {
    Json(api::Health {
        status: "ok".into(),
        modems: reg.len(),
    })
}

/// One modem.
#[utoipa::path(get, path = "/modems/{id}", tag = "modems",
    params(("id" = u64, Path, description = "The modem's id")),
    responses(
        (status = 200, description = "The modem", body = api::Modem),
        (status = 404, description = "No such modem", body = api::ErrorBody),
        (status = 503, description = "The modem did not answer", body = api::ErrorBody)))]
async fn show(State(reg): State<Arc<Registry>>, Id(id): Id) -> Result<Json<api::Modem>, ApiError> {
    let (front_end, tx) = reg.modem(id).ok_or(ApiError::no_modem(id))?;
    let v = view(&tx).await.ok_or(ApiError::unavailable())?;
    Ok(Json(to_api(id, &front_end, &v)))
}

async fn inject(reg: &Registry, id: u64, f: Fault) -> Result<Json<Done>, ApiError> {
    let (_, tx) = reg.modem(id).ok_or(ApiError::no_modem(id))?;
    let (reply, rx) = oneshot::channel();
    if tx.send(Request::Fault(f, reply)).is_err() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("modem {id} is gone"),
        ));
    }
    match tokio::time::timeout(ANSWER, rx).await {
        Ok(Ok(Ok(()))) => Ok(Json(Done { ok: true })),
        Ok(Ok(Err(e))) => Err(ApiError::new(StatusCode::CONFLICT, e)),
        _ => Err(ApiError::unavailable()),
    }
}

/// Inject a fault: the same fields as a `[[fault]]` table of the config file, without
/// `at_ms`.
#[utoipa::path(post, path = "/modems/{id}/fault", tag = "faults",
    params(("id" = u64, Path, description = "The modem's id")),
    request_body = openapi::FaultSchema,
    responses(
        (status = 200, description = "Carried out", body = Done),
        (status = 400, description = "Not JSON", body = api::ErrorBody),
        (status = 404, description = "No such modem", body = api::ErrorBody),
        (status = 409, description = "The fault cannot apply now", body = api::ErrorBody),
        (status = 415, description = "Not application/json", body = api::ErrorBody),
        (status = 422, description = "Not a fault", body = api::ErrorBody),
        (status = 503, description = "The modem did not answer", body = api::ErrorBody)))]
async fn fault(
    State(reg): State<Arc<Registry>>,
    Id(id): Id,
    Body(f): Body<Fault>,
) -> Result<Json<Done>, ApiError> {
    inject(&reg, id, f).await
}

/// Set the host's DTR line (a PTY has no modem-control lines).
#[utoipa::path(post, path = "/modems/{id}/dtr", tag = "faults",
    params(("id" = u64, Path, description = "The modem's id")),
    request_body = Dtr,
    responses(
        (status = 200, description = "Carried out", body = Done),
        (status = 404, description = "No such modem", body = api::ErrorBody),
        (status = 422, description = "Not {\"on\": bool}", body = api::ErrorBody)))]
async fn dtr(
    State(reg): State<Arc<Registry>>,
    Id(id): Id,
    Body(d): Body<Dtr>,
) -> Result<Json<Done>, ApiError> {
    inject(&reg, id, Fault::Dtr { on: d.on }).await
}

/// Server-sent events: `event: modems`, `data:` every modem with its byte rates, at
/// once and then every second.
#[utoipa::path(get, path = "/events/modems", tag = "live",
    responses((status = 200, description = "A stream of `modems` events, each an array of LiveModem",
        content_type = "text/event-stream", body = [LiveModem])))]
async fn live_modems(
    State(reg): State<Arc<Registry>>,
) -> Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>> {
    struct Live {
        reg: Arc<Registry>,
        every: tokio::time::Interval,
        before: HashMap<u64, (tokio::time::Instant, api::Counters)>,
    }
    let mut every = tokio::time::interval(LIVE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let live = Live {
        reg,
        every,
        before: HashMap::new(),
    };
    let stream = futures_util::stream::unfold(live, |mut live| async move {
        live.every.tick().await;
        let now = tokio::time::Instant::now();
        let modems = all_modems(&live.reg).await;
        let mut before = HashMap::with_capacity(modems.len());
        let out: Vec<LiveModem> = modems
            .into_iter()
            .map(|modem| {
                let rates = live
                    .before
                    .get(&modem.id)
                    .map(|(at, c)| rates(c, &modem.counters, now - *at))
                    .unwrap_or_default();
                before.insert(modem.id, (now, modem.counters));
                LiveModem { modem, rates }
            })
            .collect();
        // Only the modems still there are remembered: the map never outgrows them.
        live.before = before;
        Some((Ok(event("modems", &out)), live))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// A server-sent event `name` with `data` as JSON (an `error` event if it cannot be).
fn event<T: serde::Serialize>(name: &str, data: &T) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()))
}

/// Bytes per second between two readings of the counters.
fn rates(a: &api::Counters, b: &api::Counters, over: Duration) -> Rates {
    let secs = over.as_secs_f64();
    if secs <= 0.0 {
        return Rates::default();
    }
    let per = |x: u64, y: u64| y.saturating_sub(x) as f64 / secs;
    Rates {
        host_in: per(a.host_bytes_in, b.host_bytes_in),
        host_out: per(a.host_bytes_out, b.host_bytes_out),
        net_sent: per(a.net_bytes_sent, b.net_bytes_sent),
        net_received: per(a.net_bytes_received, b.net_bytes_received),
    }
}

/// Server-sent events: `event: line`, `data:` a TapLine, for every piece of the modem's
/// line from now on (`in` from the host, `out` to it). A reader that falls behind
/// loses pieces and gets a `lost` line saying how many; the modem never waits for it.
/// The stream ends when the modem goes.
#[utoipa::path(get, path = "/modems/{id}/transcript", tag = "live",
    params(("id" = u64, Path, description = "The modem's id")),
    responses(
        (status = 200, description = "A stream of `line` events, each a TapLine",
            content_type = "text/event-stream", body = TapLine),
        (status = 404, description = "No such modem", body = api::ErrorBody),
        (status = 503, description = "The modem did not answer", body = api::ErrorBody)))]
async fn transcript(
    State(reg): State<Arc<Registry>>,
    Id(id): Id,
) -> Result<Sse<impl Stream<Item = Result<Event, std::convert::Infallible>>>, ApiError> {
    use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream};
    use tokio_stream::StreamExt as _;
    let (_, tx) = reg.modem(id).ok_or(ApiError::no_modem(id))?;
    let (reply, rx) = oneshot::channel();
    tx.send(Request::Tap(reply))
        .map_err(|_| ApiError::no_modem(id))?;
    let lines = tokio::time::timeout(ANSWER, rx)
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or(ApiError::unavailable())?;
    let stream = BroadcastStream::new(lines).map(|piece| {
        let line = match piece {
            Ok(line) => line,
            Err(BroadcastStreamRecvError::Lagged(n)) => TapLine {
                dir: TapDir::Lost,
                text: n.to_string(),
            },
        };
        Ok(event("line", &line))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
