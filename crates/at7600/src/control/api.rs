//! What the control API says and takes: typed bodies (serde, described in
//! `/openapi.json` by utoipa), and one error shape for every failure.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One modem, as `GET /modems` and `GET /modems/{id}` show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({"id":1,"front_end":"stdio","state":"network-open","dtr":true,
    "ip":"10.148.0.17","rssi":25,"reg_status":1,
    "links":[{"link":0,"conn":"c1","protocol":"tcp","state":"Open","remote":"192.0.2.7:7",
              "sent":5,"acked":5,"received":5,"buffered":0}],
    "counters":{"commands":4,"errors":0,"urcs":2,"host_bytes_in":60,"host_bytes_out":70,
                "net_bytes_sent":5,"net_bytes_received":5,"faults":0},
    "last_commands":["AT+NETOPEN","AT+CIPOPEN=0,\"TCP\",\"echo.sim\",7"]})))]
pub struct Modem {
    /// Its id in this process, from 1.
    pub id: u64,
    /// The front end it is on: `pty`, `stdio`, `tcp` or `serial`.
    pub front_end: String,
    /// Where the modem is.
    pub state: ModemState,
    /// The host's DTR line as last reported.
    pub dtr: bool,
    /// Its address while the network is open.
    pub ip: Option<String>,
    /// Signal strength (`AT+CSQ`): 0-31, or 99 for unknown.
    pub rssi: u8,
    /// Registration status 0-5 (`AT+CREG?`).
    pub reg_status: u8,
    /// The links in use, lowest number first.
    pub links: Vec<Link>,
    /// Counters since power-on.
    pub counters: Counters,
    /// The last command lines the host typed, oldest first (at most
    /// [`LAST_COMMANDS`], each cut to [`COMMAND_CHARS`] characters).
    #[serde(default)]
    pub last_commands: Vec<String>,
}

/// How many command lines [`Modem::last_commands`] keeps.
pub const LAST_COMMANDS: usize = 5;
/// The longest command line [`Modem::last_commands`] keeps whole.
pub const COMMAND_CHARS: usize = 80;

/// A modem's state, from the host's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ModemState {
    /// No PDP context.
    Idle,
    /// `AT+NETOPEN` succeeded.
    NetworkOpen,
    /// The network went away and the host has not closed it yet.
    NetworkLost,
    /// Transparent data mode.
    Data,
}

/// One link of a modem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Link {
    /// The link number 0-9.
    pub link: u8,
    /// The network connection behind it.
    pub conn: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Where the link is in its life (`Opening`, `Open`, ...).
    pub state: String,
    /// The peer (`0.0.0.0:0` for a UDP link without a fixed remote).
    pub remote: String,
    /// Bytes taken by the network stack.
    pub sent: u64,
    /// Bytes the peer acknowledged.
    pub acked: u64,
    /// Bytes received.
    pub received: u64,
    /// Bytes waiting in buffer access mode.
    pub buffered: u64,
}

/// A modem's counters since power-on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counters {
    /// Commands run.
    pub commands: u64,
    /// Commands answered `ERROR`.
    pub errors: u64,
    /// Unsolicited result codes.
    pub urcs: u64,
    /// Bytes from the host.
    pub host_bytes_in: u64,
    /// Bytes to the host.
    pub host_bytes_out: u64,
    /// Payload bytes sent to the network.
    pub net_bytes_sent: u64,
    /// Payload bytes received from the network.
    pub net_bytes_received: u64,
    /// Faults injected.
    pub faults: u64,
}

/// A modem in the live list (`GET /events/modems`): the modem and its byte rates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LiveModem {
    /// The modem.
    #[serde(flatten)]
    pub modem: Modem,
    /// Bytes per second since the previous update (0 on the first).
    pub rates: Rates,
}

/// Bytes per second, averaged over the time between two updates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Rates {
    /// From the host.
    pub host_in: f64,
    /// To the host.
    pub host_out: f64,
    /// Payload to the network.
    pub net_sent: f64,
    /// Payload from the network.
    pub net_received: f64,
}

/// One piece of a modem's line (`GET /modems/{id}/transcript`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({"dir":"out","text":"\\r\\n+IPCLOSE: 0,1\\r\\n"}),
    json!({"dir":"lost","text":"12"})))]
pub struct TapLine {
    /// Which way the bytes went.
    pub dir: TapDir,
    /// The bytes as a C string (`\r`, `\n`, `\xNN`); for `lost`, how many pieces were
    /// dropped because the reader was too slow.
    pub text: String,
}

/// The direction of a [`TapLine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TapDir {
    /// Host to modem.
    In,
    /// Modem to host.
    Out,
    /// Pieces lost: the reader fell behind (the modem never waits for it).
    Lost,
}

/// `POST /modems/{id}/dtr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({"on": false})))]
#[serde(deny_unknown_fields)]
pub struct Dtr {
    /// ON (true) or OFF.
    pub on: bool,
}

/// `GET /health`: the API answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({"status": "ok", "modems": 1})))]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    /// Modems registered in this process.
    pub modems: usize,
}

/// A request that was carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({"ok": true})))]
pub struct Done {
    /// Always true.
    pub ok: bool,
}

/// Every 4xx and 5xx answer: `{"error":{"code":"not-found","message":"no modem 9"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({"error":{"code":"not-found","message":"no modem 9"}}),
    json!({"error":{"code":"conflict","message":"link 5 is not in use"}})))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The body of an [`ErrorBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable name for the kind of failure (follows the status code).
    pub code: ErrorCode,
    /// For a person.
    pub message: String,
}

/// The kinds of failure, one per status code the API answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// 400: the body or a path parameter is malformed.
    BadRequest,
    /// 401: the bearer token is missing or wrong.
    Unauthorized,
    /// 404: no such modem, or no such endpoint.
    NotFound,
    /// 405: the endpoint exists, not with this method.
    MethodNotAllowed,
    /// 408: the request took too long.
    RequestTimeout,
    /// 409: the request cannot apply now (a fault on a link not in use).
    Conflict,
    /// 413: the body is too large.
    PayloadTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the body is JSON but not what the endpoint takes.
    Unprocessable,
    /// 503: the modem did not answer in time.
    Unavailable,
    /// Any other status.
    Internal,
}

impl ErrorCode {
    /// The kind of failure a status code says.
    pub fn of(status: StatusCode) -> ErrorCode {
        match status {
            StatusCode::BAD_REQUEST => ErrorCode::BadRequest,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::REQUEST_TIMEOUT => ErrorCode::RequestTimeout,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::Unprocessable,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }
}

/// A failed request: its status and message, answered as an [`ErrorBody`].
#[derive(Clone, Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// For a person.
    pub message: String,
}

impl ApiError {
    /// A failure with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 404 for an unknown modem.
    pub fn no_modem(id: u64) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format!("no modem {id}"))
    }

    /// 503: the modem's loop did not answer.
    pub fn unavailable() -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "modem did not answer")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::of(self.status),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        ApiError::new(r.status(), r.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::new(r.status(), r.body_text())
    }
}

/// A modem id from the path (`/modems/{id}`), its rejection an [`ApiError`].
#[derive(Clone, Copy, Debug)]
pub struct Id(pub u64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let axum::extract::Path(id) =
            axum::extract::Path::<u64>::from_request_parts(parts, state).await?;
        Ok(Id(id))
    }
}

/// A JSON body whose rejection is an [`ApiError`].
#[derive(Clone, Copy, Debug)]
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let Json(v) = Json::<T>::from_request(req, state).await?;
        Ok(Body(v))
    }
}
