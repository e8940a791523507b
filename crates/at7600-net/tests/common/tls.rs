//! TLS helpers: a certificate chain per test (rcgen), a rustls server on loopback, and
//! the SSL context the core would hand over.

use super::*;
use at7600_core::{TlsAuth, TlsParams};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::sync::Arc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A certificate and its key, as files (PEM) and as rustls wants them.
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// The key's PKCS#8 DER.
    pub key_der: Vec<u8>,
}

/// A test CA (ECDSA P-256) that issues server and client certificates.
pub struct Pki {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    ca: Certificate,
    ca_key: KeyPair,
}

/// Seconds since the epoch of 1 January of `year` (UTC).
pub fn year(year: i32) -> u64 {
    rcgen::date_time_ymd(year, 1, 1).unix_timestamp() as u64
}

fn leaf_params(sans: &[&str], years: (i32, i32), client: bool) -> CertificateParams {
    let mut p = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("test names are valid");
    p.distinguished_name.push(
        DnType::CommonName,
        sans.first().copied().unwrap_or("client"),
    );
    p.not_before = rcgen::date_time_ymd(years.0, 1, 1);
    p.not_after = rcgen::date_time_ymd(years.1, 1, 1);
    p.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    p
}

fn identity(cert: &Certificate, key: &KeyPair) -> Identity {
    Identity {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::try_from(key.serialize_der()).expect("rcgen key"),
        key_der: key.serialize_der(),
    }
}

impl Pki {
    pub fn new() -> Self {
        let ca_key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, "test CA");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = rcgen::date_time_ymd(2000, 1, 1);
        p.not_after = rcgen::date_time_ymd(2099, 1, 1);
        let ca = p.self_signed(&ca_key).expect("CA");
        Pki {
            ca_pem: ca.pem(),
            ca_der: ca.der().to_vec(),
            ca,
            ca_key,
        }
    }

    /// A certificate for `sans`, valid from January `years.0` to January `years.1`.
    pub fn issue(&self, sans: &[&str], years: (i32, i32), client: bool) -> Identity {
        let key = KeyPair::generate().expect("key");
        let cert = leaf_params(sans, years, client)
            .signed_by(&key, &self.ca, &self.ca_key)
            .expect("leaf");
        identity(&cert, &key)
    }

    /// The server leaf: `localhost` and 127.0.0.1, valid 2020-2090.
    pub fn server(&self) -> Identity {
        self.issue(&["localhost", "127.0.0.1"], (2020, 2090), false)
    }

    /// A client certificate for mutual TLS.
    pub fn client(&self) -> Identity {
        self.issue(&["device.example"], (2020, 2090), true)
    }

    /// Roots with just this CA (for a server that checks client certificates).
    pub fn roots(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).expect("CA");
        Arc::new(roots)
    }
}

/// A self-signed certificate for `localhost`: an unknown CA.
pub fn self_signed() -> Identity {
    let key = KeyPair::generate().expect("key");
    let cert = leaf_params(&["localhost", "127.0.0.1"], (2020, 2090), false)
        .self_signed(&key)
        .expect("cert");
    identity(&cert, &key)
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration: this identity, these versions, client certificates from
/// `clients` required when given.
pub fn server_config(
    id: &Identity,
    versions: &[&'static rustls::SupportedProtocolVersion],
    clients: Option<&Pki>,
) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .expect("versions");
    let builder = match clients {
        Some(pki) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(pki.roots(), provider())
                .build()
                .expect("verifier"),
        ),
        None => builder.with_no_client_auth(),
    };
    Arc::new(
        builder
            .with_single_cert(id.chain.clone(), id.key.clone_key())
            .expect("server cert"),
    )
}

pub const TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
pub const TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
pub const ALL: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS12, &rustls::version::TLS13];

/// A TLS server on loopback: its port and the acceptor.
pub async fn tls_server(config: Arc<ServerConfig>) -> (TcpListener, TlsAcceptor, u16) {
    let (l, port) = listener().await;
    (l, TlsAcceptor::from(config), port)
}

/// Accepts one connection and its handshake.
pub async fn accept(
    l: &TcpListener,
    acceptor: &TlsAcceptor,
) -> std::io::Result<TlsStream<TcpStream>> {
    let (tcp, _) = timeout(WAIT, l.accept()).await.expect("no connection")?;
    timeout(WAIT, acceptor.accept(tcp))
        .await
        .expect("handshake stuck")
}

/// The SSL context of authmode `auth` trusting `ca`, for host `localhost`, SNI on,
/// dates ignored, TLS 1.2 (sslversion 4 without 1.3), all suites.
pub fn params(auth: TlsAuth, ca: &[u8]) -> TlsParams {
    TlsParams {
        version: 4,
        allow_tls13: false,
        auth,
        server_name: "localhost".into(),
        sni: true,
        verify_time: None,
        cipher_suite: None,
        ca: ca.to_vec(),
        client_cert: Vec::new(),
        client_key: Vec::new(),
        key_password: None,
    }
}

/// `Open` of a TLS session to `host:port`.
pub fn open_tls(conn: u64, host: &str, port: u16, params: TlsParams) -> NetCommand {
    NetCommand::Open {
        conn: ConnId(conn),
        protocol: Protocol::Tcp,
        remote: Some((host.to_string(), port)),
        local_port: None,
        options: options(),
        tls: Some(Box::new(params)),
    }
}

/// `Connected`, then `Opened`.
pub async fn expect_opened(events: &mut NetEvents, conn: u64) {
    assert_eq!(
        next(events).await,
        NetEvent::Connected { conn: ConnId(conn) }
    );
    match next(events).await {
        NetEvent::Opened { conn: c, .. } if c == ConnId(conn) => {}
        other => panic!("expected Opened, got {other:?}"),
    }
}

/// `Connected`, then the handshake fails.
pub async fn expect_handshake_failure(events: &mut NetEvents, conn: u64) {
    let conn = ConnId(conn);
    assert_eq!(next(events).await, NetEvent::Connected { conn });
    assert_eq!(
        next(events).await,
        NetEvent::OpenFailed {
            conn,
            error: OpenError::Handshake
        }
    );
}

/// The RSA test key of `rsa-test-key.pem`: (PKCS#1 PEM, PKCS#8 PEM).
pub fn rsa_key() -> (String, String) {
    let file = include_str!("rsa-test-key.pem");
    let pkcs8 = file
        .find("-----BEGIN PRIVATE KEY-----")
        .expect("PKCS#8 section");
    let pkcs1 = file
        .find("-----BEGIN RSA PRIVATE KEY-----")
        .expect("PKCS#1 section");
    (file[pkcs1..pkcs8].to_string(), file[pkcs8..].to_string())
}

impl Pki {
    /// A client certificate for the public half of `key` (an rcgen key pair).
    pub fn client_for(&self, key: &KeyPair) -> Identity {
        let cert = leaf_params(&["device.example"], (2020, 2090), true)
            .signed_by(key, &self.ca, &self.ca_key)
            .expect("leaf");
        identity(&cert, key)
    }

    /// A certificate for `sans` valid in `years`, issued by an intermediate CA valid in
    /// `mid_years` under this one: `chain` and `cert_pem` hold the leaf, then the
    /// intermediate.
    pub fn issue_via_intermediate(
        &self,
        sans: &[&str],
        years: (i32, i32),
        mid_years: (i32, i32),
        client: bool,
    ) -> Identity {
        let mid_key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::default();
        p.distinguished_name
            .push(DnType::CommonName, "test intermediate");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p.not_before = rcgen::date_time_ymd(mid_years.0, 1, 1);
        p.not_after = rcgen::date_time_ymd(mid_years.1, 1, 1);
        let mid = p
            .signed_by(&mid_key, &self.ca, &self.ca_key)
            .expect("intermediate");
        let key = KeyPair::generate().expect("key");
        let leaf = leaf_params(sans, years, client)
            .signed_by(&key, &mid, &mid_key)
            .expect("leaf");
        let mut id = identity(&leaf, &key);
        id.cert_pem.push_str(&mid.pem());
        id.chain.push(mid.der().clone());
        id
    }
}
