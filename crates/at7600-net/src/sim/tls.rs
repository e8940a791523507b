//! TLS on the simulated network: the simulated CA, the certificate chains of the TLS
//! hosts, and handshakes between the modem's real rustls client and a real rustls
//! server, in memory.
//!
//! Design: the handshake is real, its timing is simulated. When a TLS session's TCP
//! connection is up, the modem's client configuration (the same one the real network
//! builds, [`crate::tls::prepare`]) and the host's server configuration handshake in
//! memory, at once, to the end. That gives the true outcome, decided by rustls and
//! webpki exactly as on the real network (unknown CA, expired, wrong name, no common
//! version or suite, SNI, client certificates), with the library's own reason for the
//! log, and the number of flights each side sent. The flights are then charged on the
//! radio link like TCP segments (pipe, latency, jitter, loss), so a TLS 1.2 handshake
//! costs two round trips and TLS 1.3 one, and `Opened` (or `OpenFailed`) comes when the
//! last flight has arrived. Each flight is charged a fixed size plus the certificate
//! chain it carries, not its exact byte count: ECDSA signatures and a few random fields
//! vary by some bytes from run to run, and virtual time must not.
//!
//! Application data is then carried as plaintext by the simulated TCP connection (TLS
//! record overhead is not charged), with all its windows, back-pressure and faults. The
//! alternative, records encrypted and decrypted through the simulated pipe, would make
//! every window and queue count ciphertext while the core counts plaintext, for no
//! outcome the modem could see.
//!
//! Determinism: every key here is Ed25519 derived from a fixed label (Ed25519 signs
//! deterministically), certificates have fixed dates and serial numbers, so the CA and
//! every chain are the same bytes in every run and on every machine. These keys are
//! public by construction: they are for simulation only.

use super::config::{SimCert, SimClientAuth, SimTlsVersions, TlsService};
use crate::rng::Rng;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::client::ClientConnection;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, ServerConfig, ServerConnection};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The DER prefix of an Ed25519 PKCS#8 v1 key (RFC 8410); the 32-byte seed follows.
const ED25519_PKCS8: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// The name of the CA every simulated TLS host's certificate comes from.
const CA_NAME: &str = "at7600 simulated CA";
/// What a `wrong-name` certificate names instead of its host.
pub const WRONG_NAME: &str = "wrong-name.invalid";
/// Bytes charged for a handshake flight besides the certificate chain it carries.
const FLIGHT: usize = 512;
/// A handshake has at most this many flights; more means something is wrong.
const MAX_FLIGHTS: usize = 12;

/// A simulation key from a label: the same label, the same key, everywhere.
fn key(label: &str) -> Result<KeyPair, String> {
    let mut rng = Rng::new(label_hash(label));
    let mut der = ED25519_PKCS8.to_vec();
    for _ in 0..4 {
        der.extend_from_slice(&rng.next_u64().to_be_bytes());
    }
    KeyPair::try_from(der.as_slice()).map_err(|e| format!("simulated key: {e}"))
}

/// FNV-1a of the label: a stable seed (the standard library's hasher may change).
fn label_hash(label: &str) -> u64 {
    label.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn params(cn: &str, serial: &str, years: (i32, i32), sans: Vec<SanType>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.serial_number = Some(SerialNumber::from(label_hash(serial) >> 1));
    p.not_before = rcgen::date_time_ymd(years.0, 1, 1);
    p.not_after = rcgen::date_time_ymd(years.1, 12, 31);
    p.subject_alt_names = sans;
    p
}

fn ca() -> Result<(Certificate, KeyPair), String> {
    let key = key("ca")?;
    let mut p = params(CA_NAME, "ca", (2000, 2099), Vec::new());
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = p
        .self_signed(&key)
        .map_err(|e| format!("simulated CA: {e}"))?;
    Ok((cert, key))
}

/// The simulated CA's certificate, PEM: what a test downloads into the modem
/// (`AT+CCERTDOWN`) to verify the simulated TLS hosts. The same bytes in every run.
pub fn ca_pem() -> String {
    ca().map(|(cert, _)| cert.pem()).unwrap_or_default()
}

/// The certificate chain (leaf, then the CA unless self-signed) and key a simulated
/// host presents.
pub(crate) fn chain(
    name: &str,
    addr: Ipv4Addr,
    kind: SimCert,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let label = format!("{kind:?}/{name}/{addr}");
    let leaf_key = key(&label)?;
    let dns = |n: &str| {
        n.try_into()
            .map(SanType::DnsName)
            .map_err(|e| format!("host name {n:?} cannot be in a certificate: {e}"))
    };
    let sans = match kind {
        SimCert::WrongName => vec![dns(WRONG_NAME)?],
        _ => vec![dns(name)?, SanType::IpAddress(IpAddr::V4(addr))],
    };
    let years = match kind {
        SimCert::Expired => (2010, 2019),
        SimCert::NotYetValid => (2090, 2099),
        _ => (2020, 2099),
    };
    let mut p = params(name, &label, years, sans);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key_der = PrivateKeyDer::try_from(leaf_key.serialize_der())
        .map_err(|e| format!("simulated key: {e}"))?;
    let certs = if kind == SimCert::SelfSigned {
        vec![p
            .self_signed(&leaf_key)
            .map_err(|e| e.to_string())?
            .der()
            .clone()]
    } else {
        let (ca, ca_key) = ca()?;
        let leaf = p
            .signed_by(&leaf_key, &ca, &ca_key)
            .map_err(|e| e.to_string())?;
        vec![leaf.der().clone(), ca.der().clone()]
    };
    Ok((certs, leaf_key_der))
}

/// The server side of a simulated TLS port.
pub(crate) fn server_config(
    service: &TlsService,
    name: &str,
    addr: Ipv4Addr,
) -> Result<(Arc<ServerConfig>, usize), String> {
    let provider = crate::tls::config::provider();
    let (certs, key) = chain(name, addr, service.cert)?;
    let chain_len = certs.iter().map(|c| c.len()).sum();
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| e.to_string())?;
    let versions: &[&rustls::SupportedProtocolVersion] = match service.versions {
        SimTlsVersions::All => &[&rustls::version::TLS12, &rustls::version::TLS13],
        SimTlsVersions::Tls12 => &[&rustls::version::TLS12],
        SimTlsVersions::Tls13 => &[&rustls::version::TLS13],
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?;
    let builder = match service.client_auth {
        SimClientAuth::None => builder.with_no_client_auth(),
        auth => builder.with_client_cert_verifier(Arc::new(AnyClient {
            mandatory: auth == SimClientAuth::Require,
            algorithms: provider.signature_verification_algorithms,
        })),
    };
    let config = builder.with_cert_resolver(Arc::new(Identity {
        key: Arc::new(CertifiedKey::new(certs, signer)),
        require_sni: service.require_sni,
    }));
    Ok((Arc::new(config), chain_len))
}

/// The simulated server's certificate, refused to a client without SNI if it must be.
#[derive(Debug)]
struct Identity {
    key: Arc<CertifiedKey>,
    require_sni: bool,
}

impl ResolvesServerCert for Identity {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        (hello.server_name().is_some() || !self.require_sni).then(|| self.key.clone())
    }
}

/// A simulated server's view of client certificates: any is welcome, but its key must
/// sign the handshake.
#[derive(Debug)]
struct AnyClient {
    mandatory: bool,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClient {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        crate::tls::verify::signature(&self.algorithms, message, cert, dss, false)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        crate::tls::verify::signature(&self.algorithms, message, cert, dss, true)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// One handshake flight: its direction and the bytes charged for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flight {
    /// From the modem to the server.
    pub(crate) up: bool,
    /// Bytes charged on the link.
    pub(crate) bytes: usize,
}

/// What a handshake in memory gave: the flights that crossed the link, and the outcome
/// (the client library's reason on failure).
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) flights: Vec<Flight>,
    pub(crate) result: Result<(), String>,
}

/// Runs a handshake between the modem's client and a simulated server to its end.
/// `server_chain` and `client_chain` are the certificate bytes each side may send.
pub(crate) fn handshake(
    client: Arc<ClientConfig>,
    name: ServerName<'static>,
    server: Arc<ServerConfig>,
    server_chain: usize,
    client_chain: usize,
) -> Outcome {
    let mut flights = Vec::new();
    let result = run(client, name, server, |up| {
        // Fixed sizes (see the module docs): the server's first flight carries its
        // chain, the client's second its own, if it has one.
        let ups = flights.iter().filter(|f: &&Flight| f.up).count();
        let downs = flights.len() - ups;
        let extra = match (up, ups, downs) {
            (false, _, 0) => server_chain,
            (true, 1, _) => client_chain,
            _ => 0,
        };
        flights.push(Flight {
            up,
            bytes: FLIGHT + extra,
        });
    });
    Outcome { flights, result }
}

fn run(
    client: Arc<ClientConfig>,
    name: ServerName<'static>,
    server: Arc<ServerConfig>,
    mut flight: impl FnMut(bool),
) -> Result<(), String> {
    let mut client = ClientConnection::new(client, name).map_err(|e| e.to_string())?;
    let mut server = ServerConnection::new(server).map_err(|e| e.to_string())?;
    for _ in 0..MAX_FLIGHTS {
        if !client.is_handshaking() {
            return Ok(());
        }
        let up = outgoing(&mut client)?;
        if !up.is_empty() {
            flight(true);
            if let Err(e) = incoming(&mut server, &up) {
                tracing::debug!(reason = %e, "simulated TLS server refused the handshake");
            }
        }
        let down = outgoing(&mut server)?;
        if !down.is_empty() {
            flight(false);
            incoming(&mut client, &down)?;
        } else if up.is_empty() {
            return Err("the handshake stalled".into());
        }
    }
    Err("the handshake did not finish".into())
}

/// Everything a side has to send now.
fn outgoing<S: rustls::SideData>(
    side: &mut rustls::ConnectionCommon<S>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for _ in 0..MAX_FLIGHTS {
        if !side.wants_write() {
            break;
        }
        side.write_tls(&mut out).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Gives `bytes` to a side and lets it process them; its error, if it failed.
fn incoming<S: rustls::SideData>(
    side: &mut rustls::ConnectionCommon<S>,
    mut bytes: &[u8],
) -> Result<(), String> {
    // Each call reads at most one buffer's worth; a flight is a few of them.
    for _ in 0..64 {
        if bytes.is_empty() {
            break;
        }
        match side.read_tls(&mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        side.process_new_packets().map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_simulated_pki_is_the_same_bytes_every_time() {
        let ca = ca_pem();
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
        assert_eq!(ca, ca_pem());
        let addr = Ipv4Addr::new(192, 0, 2, 7);
        for kind in [SimCert::Valid, SimCert::Expired, SimCert::SelfSigned] {
            let (a, _) = chain("echo.sim", addr, kind).expect("chain");
            let (b, _) = chain("echo.sim", addr, kind).expect("chain");
            assert_eq!(a, b);
        }
    }

    #[test]
    fn a_host_name_no_certificate_can_carry_fails_the_handshake_not_the_daemon() {
        let addr = Ipv4Addr::new(192, 0, 2, 7);
        assert!(chain("bad name\u{e9}", addr, SimCert::Valid).is_err());
    }
}
