//! The embedded networking traits (feature `embedded-nal-async`), so firmware written
//! against them runs on this driver unchanged, on a Linux host or in its CI.
//!
//! - [`Modem`] is an [`embedded_nal_async::TcpConnect`] (IPv4 only, as the module) and
//!   an [`embedded_nal_async::Dns`] (`AT+CDNSGIP`; the module has no reverse lookup).
//! - [`TcpStream`] and [`TlsStream`] are [`embedded_io_async::Read`] +
//!   [`embedded_io_async::Write`] (a TLS client such as firmware's MQTT library then
//!   runs over the module's own TLS).
//!
//! UDP is not offered through these traits: their unconnected socket must report each
//! datagram's sender, which the module's buffer access mode (`AT+CIPRXGET=2`) does not
//! give. Use [`crate::UdpSocket`] directly.

pub use embedded_io_async;
pub use embedded_nal_async;

use crate::{Error, Modem, TcpStream, TlsStream};
use core::net::{IpAddr, SocketAddr};
use embedded_io_async::ErrorKind;
use embedded_nal_async::AddrType;
use std::io;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

impl embedded_io_async::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Io(e) => match e.kind() {
                io::ErrorKind::TimedOut => ErrorKind::TimedOut,
                io::ErrorKind::BrokenPipe => ErrorKind::BrokenPipe,
                _ => ErrorKind::Other,
            },
            Error::LinkClosed { .. }
            | Error::NetworkLost
            | Error::SendIncomplete { .. }
            | Error::SessionClosed { .. } => ErrorKind::ConnectionReset,
            Error::Connect { .. } | Error::TlsConnect { .. } => ErrorKind::ConnectionRefused,
            Error::Timeout { .. } => ErrorKind::TimedOut,
            Error::LineClosed => ErrorKind::BrokenPipe,
            Error::NoFreeLink | Error::NoFreeSession => ErrorKind::OutOfMemory,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            _ => ErrorKind::Other,
        }
    }
}

/// The typed error a tokio-side `io::Error` of this crate carries (see
/// `Error::into_io`); any other `io::Error` stays one.
fn typed(e: io::Error) -> Error {
    if !e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        return Error::Io(e);
    }
    match e.into_inner().map(|inner| inner.downcast::<Error>()) {
        Some(Ok(typed)) => *typed,
        _ => Error::Io(io::Error::other("error lost in conversion")),
    }
}

/// `embedded_io_async::Read` and `Write` through the stream's tokio impls.
macro_rules! embedded_io_for {
    ($($stream:ty),*) => {$(
        impl embedded_io_async::ErrorType for $stream {
            type Error = Error;
        }

        impl embedded_io_async::Read for $stream {
            async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
                AsyncReadExt::read(self, buf).await.map_err(typed)
            }
        }

        impl embedded_io_async::Write for $stream {
            async fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
                AsyncWriteExt::write(self, buf).await.map_err(typed)
            }

            async fn flush(&mut self) -> Result<(), Error> {
                AsyncWriteExt::flush(self).await.map_err(typed)
            }
        }
    )*};
}

embedded_io_for!(TcpStream, TlsStream);

impl embedded_nal_async::TcpConnect for Modem {
    type Error = Error;
    type Connection<'a>
        = TcpStream
    where
        Self: 'a;

    async fn connect(&self, remote: SocketAddr) -> Result<TcpStream, Error> {
        match remote {
            SocketAddr::V4(addr) => {
                TcpStream::connect(self, &addr.ip().to_string(), addr.port()).await
            }
            SocketAddr::V6(_) => Err(Error::Unsupported("IPv6 (the module is IPv4 only)")),
        }
    }
}

impl embedded_nal_async::Dns for Modem {
    type Error = Error;

    async fn get_host_by_name(&self, host: &str, addr_type: AddrType) -> Result<IpAddr, Error> {
        match addr_type {
            AddrType::IPv6 => Err(Error::Unsupported("IPv6 (the module is IPv4 only)")),
            AddrType::IPv4 | AddrType::Either => self.resolve(host).await.map(IpAddr::V4),
        }
    }

    async fn get_host_by_address(&self, _addr: IpAddr, _result: &mut [u8]) -> Result<usize, Error> {
        Err(Error::Unsupported(
            "reverse name lookups (no AT command for them)",
        ))
    }
}
