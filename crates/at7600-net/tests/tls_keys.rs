//! `ssl.md` §14.3 client identities on the real network: every key format the contract
//! names (PKCS#8, PKCS#1, SEC1; PEM or DER; encrypted PKCS#8 is in `tls_handshake.rs`),
//! chains with intermediates, and CA files with several certificates.

mod common;

use at7600_core::TlsAuth;
use common::tls::*;
use common::*;
use pkcs8::der::pem::LineEnding;

/// Opens a mutual-TLS session with this client certificate file and key file against
/// a server that requires client certificates from `pki`; returns how the open ended.
async fn mutual(pki: &Pki, cert: Vec<u8>, key: Vec<u8>) -> NetEvent {
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, Some(pki))).await;
    let (mut net, mut ev) = modem();
    let mut p = params(TlsAuth::Mutual, pki.ca_pem.as_bytes());
    p.client_cert = cert;
    p.client_key = key;
    net.execute(open_tls(1, "localhost", port, p));
    let server = tokio::spawn(async move { accept(&l, &acceptor).await.map(|_| ()) });
    let first = next(&mut ev).await;
    if first != (NetEvent::Connected { conn: ConnId(1) }) {
        return first;
    }
    let outcome = next(&mut ev).await;
    let _ = timeout(WAIT, server).await;
    outcome
}

fn opened(event: &NetEvent) -> bool {
    matches!(event, NetEvent::Opened { .. })
}

#[tokio::test]
async fn s14_3_rsa_pkcs1_and_pkcs8_keys_pem_and_der() {
    let pki = Pki::new();
    let (pkcs1_pem, pkcs8_pem) = rsa_key();
    let key = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8_pem, &rcgen::PKCS_RSA_SHA256)
        .expect("RSA key");
    let device = pki.client_for(&key);
    let cert_der = device.chain[0].to_vec();
    let pkcs1_der = pkcs8::Document::from_pem(&pkcs1_pem).expect("PKCS#1").1;
    for (what, cert, key) in [
        (
            "PKCS#1 PEM",
            device.cert_pem.clone().into_bytes(),
            pkcs1_pem.clone().into_bytes(),
        ),
        (
            "PKCS#1 DER",
            cert_der.clone(),
            pkcs1_der.as_bytes().to_vec(),
        ),
        (
            "PKCS#8 PEM",
            cert_der.clone(),
            pkcs8_pem.clone().into_bytes(),
        ),
        ("PKCS#8 DER", cert_der, device.key_der.clone()),
    ] {
        let outcome = mutual(&pki, cert, key).await;
        assert!(opened(&outcome), "{what}: {outcome:?}");
    }
}

#[tokio::test]
async fn s14_3_ec_sec1_keys_pem_and_der() {
    let pki = Pki::new();
    let device = pki.client();
    let info = pkcs8::PrivateKeyInfo::try_from(device.key_der.as_slice()).expect("PKCS#8");
    let sec1_der = info.private_key.to_vec();
    let sec1_pem =
        pkcs8::der::pem::encode_string("EC PRIVATE KEY", LineEnding::LF, &sec1_der).expect("PEM");
    for (what, key) in [("SEC1 PEM", sec1_pem.into_bytes()), ("SEC1 DER", sec1_der)] {
        let outcome = mutual(&pki, device.cert_pem.clone().into_bytes(), key).await;
        assert!(opened(&outcome), "{what}: {outcome:?}");
    }
}

#[tokio::test]
async fn s14_3_client_chain_with_an_intermediate_goes_whole() {
    let pki = Pki::new();
    let device = pki.issue_via_intermediate(&["device.example"], (2020, 2090), (2000, 2099), true);
    let key = device.key_pem.as_bytes();
    let outcome = mutual(&pki, device.cert_pem.clone().into_bytes(), key.to_vec()).await;
    assert!(opened(&outcome), "{outcome:?}");
    // The leaf alone does not reach the server's root.
    let outcome = mutual(&pki, device.chain[0].to_vec(), key.to_vec()).await;
    assert_eq!(
        outcome,
        NetEvent::OpenFailed {
            conn: ConnId(1),
            error: OpenError::Handshake
        }
    );
}

#[tokio::test]
async fn s14_3_ca_file_with_several_certificates_pem_and_der() {
    let pki = Pki::new();
    let other = Pki::new();
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, None)).await;
    let (mut net, mut ev) = modem();
    let files = [
        format!("{}{}", other.ca_pem, pki.ca_pem).into_bytes(),
        [other.ca_der.clone(), pki.ca_der.clone()].concat(),
    ];
    let mut servers = Vec::new();
    for (i, ca) in files.into_iter().enumerate() {
        let conn = i as u64 + 1;
        net.execute(open_tls(
            conn,
            "localhost",
            port,
            params(TlsAuth::Server, &ca),
        ));
        servers.push(accept(&l, &acceptor).await.expect("server handshake"));
        expect_opened(&mut ev, conn).await;
    }
}
