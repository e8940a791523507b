//! From an SSL context ([`TlsParams`]) to a rustls client configuration
//! (`ssl.md` §14.2-14.3), shared by the real and the simulated network.

use super::keys;
use super::verify::ModuleVerifier;
use at7600_core::{TlsAuth, TlsParams};
use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use rustls_pki_types::ServerName;
use std::sync::Arc;

/// What an open with TLS will do once TCP is up.
#[derive(Debug)]
pub(crate) enum Plan {
    /// Run the handshake with this configuration, for this server name.
    Handshake {
        /// The client configuration.
        config: Arc<ClientConfig>,
        /// The name the certificate must carry (and SNI, when on).
        name: ServerName<'static>,
    },
    /// Fail the handshake without a ClientHello (`sslversion` 0-2, a cipher suite the
    /// library lacks): `OpenFailed` with `Handshake`, and why, for the log.
    Refuse(String),
}

/// The crypto provider: ring (builds faster here than aws-lc-rs and needs no cmake).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Prepares a session before any traffic. `Err` is a certificate, key or password
/// problem (`OpenError::Certificates`, `+CCHOPEN: <s>,19`), with the reason.
pub(crate) fn prepare(params: &TlsParams) -> Result<Plan, String> {
    let base = provider();
    let identity = match params.auth {
        TlsAuth::Mutual | TlsAuth::ClientOnly => Some(identity(params, &base)?),
        TlsAuth::None | TlsAuth::Server => None,
    };
    let verifier = match params.auth {
        TlsAuth::Server | TlsAuth::Mutual => {
            let mut roots = RootCertStore::empty();
            for cert in keys::certificates(&params.ca).map_err(|e| format!("cacert: {e}"))? {
                roots
                    .add(cert)
                    .map_err(|e| format!("cacert: certificate unusable: {e}"))?;
            }
            ModuleVerifier::trusting(roots, params.verify_time, base.clone())?
        }
        TlsAuth::None | TlsAuth::ClientOnly => {
            ModuleVerifier::accept_any(base.signature_verification_algorithms)
        }
    };
    let versions: &[&SupportedProtocolVersion] = match params.version {
        3 => &[&rustls::version::TLS12],
        4 if params.allow_tls13 => &[&rustls::version::TLS12, &rustls::version::TLS13],
        4 => &[&rustls::version::TLS12],
        v => {
            return Ok(Plan::Refuse(format!(
                "sslversion {v} (SSL 3.0, TLS 1.0 or 1.1) is not offered by the TLS library"
            )))
        }
    };
    let mut provider = (*base).clone();
    if let Some(code) = params.cipher_suite {
        provider
            .cipher_suites
            .retain(|s| u16::from(s.suite()) == code);
        if provider.cipher_suites.is_empty() {
            return Ok(Plan::Refuse(format!(
                "cipher suite 0x{code:04X} is not offered by the TLS library"
            )));
        }
    }
    let builder = match ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
    {
        Ok(b) => b,
        Err(e) => return Ok(Plan::Refuse(format!("no usable TLS configuration: {e}"))),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("clientkey: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    let verified = matches!(params.auth, TlsAuth::Server | TlsAuth::Mutual);
    let name = match ServerName::try_from(params.server_name.clone()) {
        Ok(name) => name,
        Err(e) if verified => {
            return Ok(Plan::Refuse(format!(
                "host {:?} cannot be matched against a certificate: {e}",
                params.server_name
            )))
        }
        // Nothing is checked against it and no SNI can carry it: any placeholder does.
        Err(_) => ServerName::IpAddress(std::net::Ipv4Addr::UNSPECIFIED.into()),
    };
    config.enable_sni = params.sni && matches!(name, ServerName::DnsName(_));
    // One configuration per session: a resumption cache could never be used again,
    // and TLS 1.3 tickets would only be kept for nothing.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Plan::Handshake {
        config: Arc::new(config),
        name,
    })
}

/// The client certificate chain and key, checked to belong together.
#[allow(clippy::type_complexity)]
fn identity(
    params: &TlsParams,
    provider: &CryptoProvider,
) -> Result<
    (
        Vec<rustls_pki_types::CertificateDer<'static>>,
        rustls_pki_types::PrivateKeyDer<'static>,
    ),
    String,
> {
    let chain = keys::certificates(&params.client_cert).map_err(|e| format!("clientcert: {e}"))?;
    let key = keys::private_key(&params.client_key, params.key_password.as_deref())
        .map_err(|e| format!("clientkey: {e}"))?;
    rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), provider)
        .map_err(|e| format!("clientkey does not match clientcert: {e}"))?;
    Ok((chain, key))
}
