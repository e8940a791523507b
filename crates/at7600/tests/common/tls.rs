//! What the TLS tests share: a certificate chain generated in the test (rcgen), and
//! loopback servers speaking TLS (tokio-rustls) or plain TCP with a fixed behaviour:
//! HTTP/1.0, echo, send-and-close, a tiny MQTT broker. Each server records every byte
//! its clients sent and runs on its own thread for a bounded number of connections.

use rcgen::{
    date_time_ymd, BasicConstraints, Certificate, CertificateParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Connections one test server accepts before it stops.
const MAX_CONNECTIONS: usize = 8;

/// A certificate with its key, as the files a module stores.
pub struct Identity {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The certificate, DER.
    pub cert_der: CertificateDer<'static>,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
    key_der: Vec<u8>,
}

impl Identity {
    fn new(cert: &Certificate, key: &KeyPair) -> Identity {
        Identity {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        }
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()))
    }
}

/// A CA and what it signed: server certificates for `localhost` and 127.0.0.1 (valid
/// at any clock, expired, or for another name), a client certificate; and a second,
/// unknown CA with a server certificate of its own.
pub struct Chain {
    /// The CA the module trusts (`ca.pem`).
    pub ca: Identity,
    /// The server's certificate for `localhost` and 127.0.0.1.
    pub server: Identity,
    /// The same names, valid only in the 1990s.
    pub expired: Identity,
    /// Signed by the CA for `other.example` only.
    pub wrong_name: Identity,
    /// The device's client certificate (`dev.pem`, `dev.key.pem`).
    pub client: Identity,
    /// A server certificate from a CA the module does not know.
    pub unknown_ca_server: Identity,
}

fn ca(name: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("CA key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = p.self_signed(&key).expect("CA certificate");
    (cert, key)
}

fn leaf(
    names: &[&str],
    client: bool,
    dates: Option<(i32, i32)>,
    issuer: &(Certificate, KeyPair),
) -> Identity {
    let key = KeyPair::generate().expect("leaf key");
    let dns: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut p = CertificateParams::new(dns).expect("leaf params");
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("device"),
    );
    if !client {
        p.subject_alt_names
            .push(SanType::IpAddress([127, 0, 0, 1].into()));
    }
    p.extended_key_usages = vec![if client {
        ExtendedKeyUsagePurpose::ClientAuth
    } else {
        ExtendedKeyUsagePurpose::ServerAuth
    }];
    if let Some((from, to)) = dates {
        p.not_before = date_time_ymd(from, 1, 1);
        p.not_after = date_time_ymd(to, 1, 1);
    }
    let cert = p.signed_by(&key, &issuer.0, &issuer.1).expect("leaf");
    Identity::new(&cert, &key)
}

impl Chain {
    /// A fresh chain. Validity is rcgen's default (1975-4096) unless said otherwise,
    /// so the module's clock, whatever it says, is inside it.
    pub fn generate() -> Chain {
        let root = ca("at7600 test CA");
        let other = ca("unknown CA");
        Chain {
            server: leaf(&["localhost"], false, None, &root),
            expired: leaf(&["localhost"], false, Some((1990, 2000)), &root),
            wrong_name: leaf(&["other.example"], false, None, &root),
            client: leaf(&["at7600 device"], true, None, &root),
            unknown_ca_server: leaf(&["localhost"], false, None, &other),
            ca: Identity::new(&root.0, &root.1),
        }
    }

    /// A server config presenting `id`; with `client_ca`, a client certificate
    /// signed by it is required; `tls13_only` refuses TLS 1.2.
    pub fn server_config(&self, id: &Identity, client_ca: bool, tls13_only: bool) -> ServerConfig {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: &[&'static rustls::SupportedProtocolVersion] = if tls13_only {
            &[&rustls::version::TLS13]
        } else {
            &[&rustls::version::TLS12, &rustls::version::TLS13]
        };
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .expect("versions");
        let builder = if client_ca {
            let mut roots = RootCertStore::empty();
            roots.add(self.ca.cert_der.clone()).expect("CA root");
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        builder
            .with_single_cert(vec![id.cert_der.clone()], id.key())
            .expect("server certificate")
    }
}

impl Chain {
    /// A TLS server presenting `id` (see [`Chain::server_config`]) that does `b`.
    pub fn serve(
        &self,
        id: &Identity,
        client_ca: bool,
        tls13_only: bool,
        b: Behaviour,
    ) -> TestServer {
        TestServer::start(Some(self.server_config(id, client_ca, tls13_only)), b)
    }
}

/// What a test server does with each connection.
#[derive(Clone)]
pub enum Behaviour {
    /// HTTP/1.0: reads the request head, writes `response`, then closes (TLS
    /// close_notify first).
    Http(Vec<u8>),
    /// Echoes until the client closes.
    Echo,
    /// Writes `data` at once, then closes without reading.
    SendAndClose(Vec<u8>),
    /// A tiny MQTT 3.1.1 broker: CONNECT → CONNACK, PUBLISH QoS 1 → PUBACK, DISCONNECT
    /// → close.
    Mqtt,
}

/// A running loopback server.
pub struct TestServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Every byte its clients sent, all connections in order.
    pub received: Arc<Mutex<Vec<u8>>>,
    /// Completed connections (behaviour done, stream closed); handshakes that failed
    /// do not count.
    served: Mutex<std::sync::mpsc::Receiver<()>>,
}

impl TestServer {
    /// Starts a server: TLS with `tls`, plain TCP without.
    pub fn start(tls: Option<ServerConfig>, behaviour: Behaviour) -> TestServer {
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (served_tx, served) = std::sync::mpsc::channel();
        let received = Arc::new(Mutex::new(Vec::new()));
        let record = received.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("server runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let _ = port_tx.send(listener.local_addr().expect("addr").port());
                let acceptor = tls.map(|c| tokio_rustls::TlsAcceptor::from(Arc::new(c)));
                let mut tasks = Vec::new();
                for _ in 0..MAX_CONNECTIONS {
                    let Ok((tcp, _)) = listener.accept().await else {
                        break;
                    };
                    let (b, rec, done) = (behaviour.clone(), record.clone(), served_tx.clone());
                    let acceptor = acceptor.clone();
                    tasks.push(tokio::spawn(async move {
                        let ok = match acceptor {
                            Some(a) => match a.accept(tcp).await {
                                Ok(s) => serve(s, b, rec).await,
                                Err(e) => {
                                    eprintln!("test server: handshake failed: {e}");
                                    false
                                }
                            },
                            None => serve(tcp, b, rec).await,
                        };
                        if ok {
                            let _ = done.send(());
                        }
                    }));
                }
                for t in tasks {
                    let _ = t.await;
                }
            });
        });
        let port = port_rx.recv_timeout(super::WAIT).expect("server listening");
        TestServer {
            port,
            received,
            served: Mutex::new(served),
        }
    }

    /// Waits (at most [`super::WAIT`]) until one more connection was served to its end.
    pub fn wait_served(&self) {
        let served = self.served.lock().expect("not poisoned");
        served
            .recv_timeout(super::WAIT)
            .expect("the server finished a connection");
    }

    /// What clients sent so far.
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// One read, recorded in `rec`; 0 at EOF, on an error, or after [`super::WAIT`]
/// without data.
async fn read_some<S: AsyncRead + Unpin>(s: &mut S, rec: &Mutex<Vec<u8>>, buf: &mut [u8]) -> usize {
    match tokio::time::timeout(super::WAIT, s.read(buf)).await {
        Ok(Ok(n)) => {
            if let Ok(mut r) = rec.lock() {
                r.extend_from_slice(&buf[..n]);
            }
            n
        }
        _ => 0,
    }
}

/// Reads one MQTT control packet (fixed header, remaining length, body).
async fn mqtt_packet<S: AsyncRead + Unpin>(s: &mut S, rec: &Mutex<Vec<u8>>) -> Option<Vec<u8>> {
    let mut packet = Vec::new();
    let mut byte = [0u8; 1];
    if read_some(s, rec, &mut byte).await == 0 {
        return None;
    }
    packet.push(byte[0]);
    let mut len = 0usize;
    for shift in [0, 7, 14, 21] {
        if read_some(s, rec, &mut byte).await == 0 {
            return None;
        }
        packet.push(byte[0]);
        len |= usize::from(byte[0] & 0x7F) << shift;
        if byte[0] & 0x80 == 0 {
            break;
        }
    }
    let mut body = vec![0u8; len];
    let mut got = 0;
    while got < len {
        let n = read_some(s, rec, &mut body[got..]).await;
        if n == 0 {
            return None;
        }
        got += n;
    }
    packet.extend(body);
    Some(packet)
}

/// Runs `b` on one connection; `true` when it ran to its end.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    b: Behaviour,
    rec: Arc<Mutex<Vec<u8>>>,
) -> bool {
    let mut buf = vec![0u8; 4096];
    match b {
        Behaviour::Http(response) => {
            let mut head = Vec::new();
            for _ in 0..64 {
                if head.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
                let n = read_some(&mut s, &rec, &mut buf).await;
                if n == 0 {
                    return false;
                }
                head.extend_from_slice(&buf[..n]);
            }
            if s.write_all(&response).await.is_err() {
                return false;
            }
        }
        Behaviour::Echo => {
            // At most 64 MiB per connection, then the test server stops echoing.
            let mut total = 0usize;
            while total < 64 << 20 {
                let n = read_some(&mut s, &rec, &mut buf).await;
                if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                    break;
                }
                total += n;
            }
        }
        Behaviour::SendAndClose(data) => {
            if s.write_all(&data).await.is_err() {
                return false;
            }
        }
        Behaviour::Mqtt => {
            for _ in 0..16 {
                let Some(p) = mqtt_packet(&mut s, &rec).await else {
                    return false;
                };
                let reply: Vec<u8> = match p[0] >> 4 {
                    1 => vec![0x20, 0x02, 0x00, 0x00],
                    3 if p[0] & 0x06 == 0x02 => {
                        // QoS 1: the packet id follows the topic (one length byte
                        // for these small packets).
                        let topic_len = match (p.get(2), p.get(3)) {
                            (Some(&hi), Some(&lo)) => usize::from(u16::from_be_bytes([hi, lo])),
                            _ => return false,
                        };
                        match (p.get(4 + topic_len), p.get(5 + topic_len)) {
                            (Some(&hi), Some(&lo)) => vec![0x40, 0x02, hi, lo],
                            _ => return false,
                        }
                    }
                    14 => break,
                    _ => Vec::new(),
                };
                if s.write_all(&reply).await.is_err() {
                    return false;
                }
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), s.shutdown()).await;
    true
}
