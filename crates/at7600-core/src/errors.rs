//! The manual's two error tables (chapters 3 and 4, restored in `clarifications.md` §7).

/// `<err_info>`, printed after `+IP ERROR:` as a string (or its number when
/// `AT+CIPCCFG` errMode is 0).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
#[allow(missing_docs)] // each variant is the manual's text, see `text()`
pub enum ErrInfo {
    ConnectionTimeOut = 0,
    BindPortFailed = 1,
    PortOverflow = 2,
    CreateSocketFailed = 3,
    NetworkAlreadyOpened = 4,
    NetworkAlreadyClosed = 5,
    NoClientsConnected = 6,
    NoActiveClient = 7,
    NetworkNotOpened = 8,
    ClientIndexOverflow = 9,
    ConnectionAlreadyCreated = 10,
    ConnectionNotCreated = 11,
    InvalidParameter = 12,
    OperationNotSupported = 13,
    DnsQueryFailed = 14,
    TcpBusy = 15,
    NetCloseFailedForSocketOpened = 16,
    SendingTimeOut = 17,
    SendingFailureForNetworkError = 18,
    OpenFailureForNetworkError = 19,
    ServerAlreadyListening = 20,
    OperationFailed = 21,
    NoData = 22,
}

impl ErrInfo {
    /// The manual's string for this error.
    pub fn text(self) -> &'static str {
        use ErrInfo::*;
        match self {
            ConnectionTimeOut => "Connection time out",
            BindPortFailed => "Bind port failed",
            PortOverflow => "Port overflow",
            CreateSocketFailed => "Create socket failed",
            NetworkAlreadyOpened => "Network is already opened",
            NetworkAlreadyClosed => "Network is already closed",
            NoClientsConnected => "No clients connected",
            NoActiveClient => "No active client",
            NetworkNotOpened => "Network not opened",
            ClientIndexOverflow => "Client index overflow",
            ConnectionAlreadyCreated => "Connection is already created",
            ConnectionNotCreated => "Connection is not created",
            InvalidParameter => "Invalid parameter",
            OperationNotSupported => "Operation not supported",
            DnsQueryFailed => "DNS query failed",
            TcpBusy => "TCP busy",
            NetCloseFailedForSocketOpened => "Net close failed for socket opened",
            SendingTimeOut => "Sending time out",
            SendingFailureForNetworkError => "Sending failure for network error",
            OpenFailureForNetworkError => "Open failure for network error",
            ServerAlreadyListening => "Server is already listening",
            OperationFailed => "Operation failed",
            NoData => "No data",
        }
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Every value, in code order.
    pub const ALL: [ErrInfo; 23] = {
        use ErrInfo::*;
        [
            ConnectionTimeOut,
            BindPortFailed,
            PortOverflow,
            CreateSocketFailed,
            NetworkAlreadyOpened,
            NetworkAlreadyClosed,
            NoClientsConnected,
            NoActiveClient,
            NetworkNotOpened,
            ClientIndexOverflow,
            ConnectionAlreadyCreated,
            ConnectionNotCreated,
            InvalidParameter,
            OperationNotSupported,
            DnsQueryFailed,
            TcpBusy,
            NetCloseFailedForSocketOpened,
            SendingTimeOut,
            SendingFailureForNetworkError,
            OpenFailureForNetworkError,
            ServerAlreadyListening,
            OperationFailed,
            NoData,
        ]
    };

    /// Looks an error up by its string (as a client driver reads it back).
    pub fn from_text(text: &str) -> Option<ErrInfo> {
        Self::ALL.into_iter().find(|e| e.text() == text)
    }

    /// Looks an error up by its number.
    pub fn from_code(code: u8) -> Option<ErrInfo> {
        Self::ALL.get(usize::from(code)).copied()
    }
}

/// `<err>`, the result number in `+NETOPEN:`, `+NETCLOSE:`, `+CIPOPEN:`, `+CIPERROR:`,
/// `+CIPCLOSE:` and `+SERVERSTOP:`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
#[allow(missing_docs)] // each variant is the manual's text, see `text()`
pub enum ErrCode {
    Success = 0,
    NetworkFailure = 1,
    NetworkNotOpened = 2,
    WrongParameter = 3,
    OperationNotSupported = 4,
    FailedToCreateSocket = 5,
    FailedToBindSocket = 6,
    ServerAlreadyListening = 7,
    Busy = 8,
    SocketsOpened = 9,
    Timeout = 10,
    DnsParseFailed = 11,
    Unknown = 12,
}

impl ErrCode {
    /// The manual's description.
    pub fn text(self) -> &'static str {
        use ErrCode::*;
        match self {
            Success => "operation succeeded",
            NetworkFailure => "Network failure",
            NetworkNotOpened => "Network not opened",
            WrongParameter => "Wrong parameter",
            OperationNotSupported => "Operation not supported",
            FailedToCreateSocket => "Failed to create socket",
            FailedToBindSocket => "Failed to bind socket",
            ServerAlreadyListening => "TCP server is already listening",
            Busy => "Busy",
            SocketsOpened => "Sockets opened",
            Timeout => "Timeout",
            DnsParseFailed => "DNS parse failed for AT+CIPOPEN",
            Unknown => "Unknown error",
        }
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Looks an error up by its number.
    pub fn from_code(code: u8) -> Option<ErrCode> {
        use ErrCode::*;
        [
            Success,
            NetworkFailure,
            NetworkNotOpened,
            WrongParameter,
            OperationNotSupported,
            FailedToCreateSocket,
            FailedToBindSocket,
            ServerAlreadyListening,
            Busy,
            SocketsOpened,
            Timeout,
            DnsParseFailed,
            Unknown,
        ]
        .get(usize::from(code))
        .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn err_info_codes_match_their_position_in_the_table() {
        for (i, e) in ErrInfo::ALL.iter().enumerate() {
            assert_eq!(usize::from(e.code()), i);
            assert_eq!(ErrInfo::from_code(e.code()), Some(*e));
            assert_eq!(ErrInfo::from_text(e.text()), Some(*e));
        }
        assert_eq!(ErrInfo::from_code(23), None);
        assert_eq!(ErrInfo::NoData.text(), "No data");
    }

    #[test]
    fn err_codes_round_trip() {
        for code in 0..13 {
            assert_eq!(ErrCode::from_code(code).map(ErrCode::code), Some(code));
        }
        assert_eq!(ErrCode::from_code(13), None);
        assert_eq!(ErrCode::DnsParseFailed.code(), 11);
    }
}
