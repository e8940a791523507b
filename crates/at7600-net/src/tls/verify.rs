//! The server certificate check per `authmode` (`ssl.md` §14.3).
//!
//! - authmodes 0 and 3: the certificate is not checked at all. The handshake signature
//!   is still checked against the key the server presented: that proves nothing about
//!   who the server is, but a handshake whose signature does not match its own
//!   certificate is broken, not merely untrusted.
//! - authmodes 1 and 2: webpki, with the context's CA file as the only trust anchors
//!   (never the host's store: modules have none) and subjectAltName only (dNSName with
//!   wildcards, iPAddress for an IPv4 literal; webpki never falls back to the common
//!   name), at the module's clock.
//!
//! Dates. webpki always checks validity at some instant. With `ignorelocaltime` 0 that
//! instant is the module's clock (`AT+CCLK`, in UTC), never the host's. With
//! `ignorelocaltime` 1 dates must not matter, so the chain is checked at an instant at
//! which every certificate of the path is valid: starting at the Unix epoch, each
//! "not valid yet" or "expired" answer names the boundary of the certificate that
//! failed, and the check is repeated there. Every other property (signatures, CA, names,
//! key usage, path length) is checked exactly as with dates. Within a few steps this
//! lands inside the intersection of the validity windows, which any chain that was ever
//! valid has; a chain whose certificates were never valid at one same instant (no CA
//! could have issued it as it stands) is refused. Starting at the epoch rather than at
//! the host's clock keeps the outcome independent of the host, so the simulated
//! network stays deterministic.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::sync::Arc;

/// At most this many instants are tried when dates are ignored (a chain has a leaf, a
/// few intermediates and a root; each step satisfies one certificate's boundary).
const DATE_STEPS: usize = 8;

/// The server certificate verifier of one TLS session.
#[derive(Debug)]
pub(crate) struct ModuleVerifier {
    /// webpki over the context's CA; `None` when the mode checks nothing.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// The module's clock (`ignorelocaltime` 0), or `None` to ignore dates.
    at: Option<UnixTime>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ModuleVerifier {
    /// A verifier that accepts any certificate (authmodes 0 and 3).
    pub(crate) fn accept_any(algorithms: WebPkiSupportedAlgorithms) -> Self {
        ModuleVerifier {
            webpki: None,
            at: None,
            algorithms,
        }
    }

    /// A verifier that trusts only `roots`, at `at` (seconds since the epoch, UTC) or
    /// at no particular date.
    pub(crate) fn trusting(
        roots: RootCertStore,
        at: Option<u64>,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, String> {
        let algorithms = provider.signature_verification_algorithms;
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| format!("CA file unusable: {e}"))?;
        Ok(ModuleVerifier {
            webpki: Some(webpki),
            at: at.map(unix),
            algorithms,
        })
    }
}

/// An instant `secs` seconds after the Unix epoch (UTC).
fn unix(secs: u64) -> UnixTime {
    UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs))
}

impl ServerCertVerifier for ModuleVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        _host_now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        let check =
            |at| webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, at);
        if let Some(at) = self.at {
            return check(at);
        }
        let mut at = unix(0);
        let mut result = check(at);
        for _ in 1..DATE_STEPS {
            at = match &result {
                Err(Error::InvalidCertificate(CertificateError::NotValidYetContext {
                    not_before,
                    ..
                })) => *not_before,
                Err(Error::InvalidCertificate(CertificateError::ExpiredContext {
                    not_after,
                    ..
                })) => *not_after,
                _ => return result,
            };
            result = check(at);
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        signature(&self.algorithms, message, cert, dss, false)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        signature(&self.algorithms, message, cert, dss, true)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Checks a handshake signature against the key of `cert`, whatever the certificate
/// itself is worth (shared with the simulated servers' view of client certificates).
pub(crate) fn signature(
    algorithms: &WebPkiSupportedAlgorithms,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
    tls13: bool,
) -> Result<HandshakeSignatureValid, Error> {
    if tls13 {
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    } else {
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }
}
