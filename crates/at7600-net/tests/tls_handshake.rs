//! `ssl.md` §14 on the real network: a rustls server on loopback and a certificate
//! chain generated per test; every failure mapped to its open error. Every wait is
//! bounded.

mod common;

use at7600_core::TlsAuth;
use common::tls::*;
use common::*;

/// §14.3 authmode 1: the chain ends at the context's CA and the leaf names the host.
#[tokio::test]
async fn s14_3_authmode_1_verified_session_carries_plaintext_and_closes_with_close_notify() {
    let pki = Pki::new();
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, None)).await;
    let (mut net, mut ev) = modem();
    net.execute(open_tls(
        1,
        "localhost",
        port,
        params(TlsAuth::Server, pki.ca_pem.as_bytes()),
    ));
    let mut server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 1).await;
    let c = ConnId(1);

    net.execute(NetCommand::Send {
        conn: c,
        data: b"GET / HTTP/1.0\r\n\r\n".to_vec(),
    });
    assert_eq!(
        next(&mut ev).await,
        NetEvent::SendDone {
            conn: c,
            outcome: SendOutcome::Accepted
        }
    );
    let mut buf = [0u8; 18];
    timeout(WAIT, server.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"GET / HTTP/1.0\r\n\r\n");
    server.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await.unwrap();
    server.flush().await.unwrap();
    assert_eq!(read_data(&mut ev, c, 19).await, b"HTTP/1.0 200 OK\r\n\r\n");

    // §11.1: CCHCLOSE sends close_notify: the server reads a clean end, not a cut.
    net.execute(NetCommand::Close { conn: c });
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: c });
    let mut rest = Vec::new();
    let end = timeout(WAIT, server.read_to_end(&mut rest)).await.unwrap();
    // tokio-rustls reports a TCP end without close_notify as an error.
    assert!(end.is_ok(), "no close_notify: {end:?}");
    assert!(rest.is_empty());
}

/// §14.4: unknown CA (a self-signed server) → handshake failure. The AT side only says
/// 15; the log says why, at info level, in the library's words.
#[tokio::test]
async fn s14_4_unknown_ca_is_a_handshake_failure_and_the_reason_is_logged() {
    let (_guard, logs) = capture_logs();
    let pki = Pki::new();
    let (l, acceptor, port) = tls_server(server_config(&self_signed(), TLS12, None)).await;
    let (mut net, mut ev) = modem();
    net.execute(open_tls(
        1,
        "localhost",
        port,
        params(TlsAuth::Server, pki.ca_pem.as_bytes()),
    ));
    assert!(accept(&l, &acceptor).await.is_err());
    expect_handshake_failure(&mut ev, 1).await;
    let text = logged(&logs);
    assert!(text.contains(" INFO "), "{text}");
    assert!(text.contains("TLS handshake failed"), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");

    // authmode 0 checks nothing: the same server is fine.
    net.execute(open_tls(2, "localhost", port, params(TlsAuth::None, b"")));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 2).await;
}

/// §14.3: dates are checked at the module's clock, only with ignorelocaltime 0.
#[tokio::test]
async fn s14_3_expired_certificate_fails_only_when_dates_are_checked() {
    let pki = Pki::new();
    let expired = pki.issue(&["localhost"], (2010, 2015), false);
    let (l, acceptor, port) = tls_server(server_config(&expired, TLS12, None)).await;
    let (mut net, mut ev) = modem();

    // ignorelocaltime 0, the module's clock in 2024: expired.
    let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
    p.verify_time = Some(year(2024));
    net.execute(open_tls(1, "localhost", port, p.clone()));
    let _ = accept(&l, &acceptor).await;
    expect_handshake_failure(&mut ev, 1).await;

    // The module's clock, not the host's: set in 2012, the certificate is valid.
    p.verify_time = Some(year(2012));
    net.execute(open_tls(2, "localhost", port, p.clone()));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 2).await;

    // ignorelocaltime 1 (factory): dates are not checked at all.
    p.verify_time = None;
    net.execute(open_tls(3, "localhost", port, p));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 3).await;
}

/// §14.3: with dates ignored, a chain whose leaf and intermediate were valid together
/// (2010-2015) passes although both have expired; checked at the module's clock in 2024
/// it fails on the intermediate.
#[tokio::test]
async fn s14_3_dates_ignored_for_every_certificate_of_the_chain() {
    let pki = Pki::new();
    let old = pki.issue_via_intermediate(&["localhost"], (2010, 2030), (2005, 2015), false);
    let (l, acceptor, port) = tls_server(server_config(&old, TLS12, None)).await;
    let (mut net, mut ev) = modem();
    let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
    net.execute(open_tls(1, "localhost", port, p.clone()));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 1).await;

    p.verify_time = Some(year(2024));
    net.execute(open_tls(2, "localhost", port, p));
    let _ = accept(&l, &acceptor).await;
    expect_handshake_failure(&mut ev, 2).await;
}

/// §14.3: a certificate not valid yet, dates checked.
#[tokio::test]
async fn s14_3_not_yet_valid_certificate_fails_when_dates_are_checked() {
    let pki = Pki::new();
    let future = pki.issue(&["localhost"], (2080, 2090), false);
    let (l, acceptor, port) = tls_server(server_config(&future, TLS12, None)).await;
    let (mut net, mut ev) = modem();
    let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
    p.verify_time = Some(year(2024));
    net.execute(open_tls(1, "localhost", port, p));
    let _ = accept(&l, &acceptor).await;
    expect_handshake_failure(&mut ev, 1).await;
}

/// §14.3: subjectAltName must name the host (authmodes 1 and 2); authmode 0 does not care.
#[tokio::test]
async fn s14_4_name_mismatch_fails_in_authmode_1_not_in_authmode_0() {
    let pki = Pki::new();
    let other = pki.issue(&["other.example"], (2020, 2090), false);
    let (l, acceptor, port) = tls_server(server_config(&other, TLS12, None)).await;
    let (mut net, mut ev) = modem();
    net.execute(open_tls(
        1,
        "localhost",
        port,
        params(TlsAuth::Server, pki.ca_pem.as_bytes()),
    ));
    let _ = accept(&l, &acceptor).await;
    expect_handshake_failure(&mut ev, 1).await;

    net.execute(open_tls(2, "localhost", port, params(TlsAuth::None, b"")));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 2).await;
}

/// §14.3: an IPv4 literal host is matched against iPAddress entries.
#[tokio::test]
async fn s14_3_ipv4_literal_is_matched_against_ip_address_entries() {
    let pki = Pki::new();
    let (mut net, mut ev) = modem();
    let mut p = params(TlsAuth::Server, &pki.ca_der);
    p.server_name = "127.0.0.1".into();

    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, None)).await;
    net.execute(open_tls(1, "127.0.0.1", port, p.clone()));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 1).await;

    // A leaf that names only a DNS name does not match the address.
    let named = pki.issue(&["localhost"], (2020, 2090), false);
    let (l, acceptor, port) = tls_server(server_config(&named, TLS12, None)).await;
    net.execute(open_tls(2, "127.0.0.1", port, p));
    let _ = accept(&l, &acceptor).await;
    expect_handshake_failure(&mut ev, 2).await;
}

/// §14.2: SNI goes out only when enableSNI is 1 (and the host is a name).
#[tokio::test]
async fn s14_2_sni_is_sent_only_when_enabled() {
    let pki = Pki::new();
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, None)).await;
    let (mut net, mut ev) = modem();
    let mut servers = Vec::new();
    for (conn, sni, seen) in [(1, true, Some("localhost")), (2, false, None)] {
        let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
        p.sni = sni;
        net.execute(open_tls(conn, "localhost", port, p));
        let server = accept(&l, &acceptor).await.expect("server handshake");
        assert_eq!(server.get_ref().1.server_name(), seen);
        expect_opened(&mut ev, conn).await;
        servers.push(server);
    }
}

/// §14.2: sslversion 0-2 fail once TCP is up, without a ClientHello.
#[tokio::test]
async fn s14_2_ssl3_tls10_tls11_fail_without_a_client_hello() {
    let pki = Pki::new();
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, None)).await;
    let (mut net, mut ev) = modem();
    for version in 0..=2u64 {
        let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
        p.version = version as u8;
        net.execute(open_tls(version + 1, "localhost", port, p));
        let (mut tcp, _) = timeout(WAIT, l.accept()).await.unwrap().unwrap();
        expect_handshake_failure(&mut ev, version + 1).await;
        let mut got = Vec::new();
        timeout(WAIT, tcp.read_to_end(&mut got)).await.unwrap().ok();
        assert!(got.is_empty(), "bytes were sent: {got:?}");
    }
    drop(acceptor);
}

/// §14.2: TLS 1.3 only with `[tls] tls13`; a TLS 1.3-only server fails otherwise.
#[tokio::test]
async fn s14_2_tls13_only_server_needs_the_tls13_setting() {
    let pki = Pki::new();
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS13, None)).await;
    let (mut net, mut ev) = modem();
    let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
    net.execute(open_tls(1, "localhost", port, p.clone()));
    assert!(accept(&l, &acceptor).await.is_err());
    expect_handshake_failure(&mut ev, 1).await;

    p.allow_tls13 = true;
    net.execute(open_tls(2, "localhost", port, p.clone()));
    let server = accept(&l, &acceptor).await.expect("server handshake");
    assert_eq!(
        server.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    expect_opened(&mut ev, 2).await;

    // sslversion 3 is TLS 1.2 only, whatever the setting.
    p.version = 3;
    net.execute(open_tls(3, "localhost", port, p));
    assert!(accept(&l, &acceptor).await.is_err());
    expect_handshake_failure(&mut ev, 3).await;
}

/// §14.2: one IANA code → only that suite; one the library lacks → 15.
#[tokio::test]
async fn s14_2_a_single_cipher_suite_is_the_only_one_offered() {
    let pki = Pki::new();
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, None)).await;
    let (mut net, mut ev) = modem();
    let mut p = params(TlsAuth::Server, pki.ca_pem.as_bytes());
    // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256.
    p.cipher_suite = Some(0xCCA9);
    net.execute(open_tls(1, "localhost", port, p.clone()));
    let server = accept(&l, &acceptor).await.expect("server handshake");
    let suite = server
        .get_ref()
        .1
        .negotiated_cipher_suite()
        .map(|s| u16::from(s.suite()));
    assert_eq!(suite, Some(0xCCA9));
    expect_opened(&mut ev, 1).await;

    // TLS_RSA_WITH_AES_128_CBC_SHA: not in rustls.
    p.cipher_suite = Some(0x002F);
    net.execute(open_tls(2, "localhost", port, p));
    let (_tcp, _) = timeout(WAIT, l.accept()).await.unwrap().unwrap();
    expect_handshake_failure(&mut ev, 2).await;
}

/// §14.3 authmode 2: the client certificate goes when the server asks; without one
/// (authmode 1) the server refuses.
#[tokio::test]
async fn s14_3_mutual_tls_presents_the_client_certificate() {
    let pki = Pki::new();
    let device = pki.client();
    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, Some(&pki))).await;
    let (mut net, mut ev) = modem();

    let mut p = params(TlsAuth::Mutual, pki.ca_pem.as_bytes());
    p.client_cert = device.cert_pem.clone().into_bytes();
    p.client_key = device.key_pem.clone().into_bytes();
    net.execute(open_tls(1, "localhost", port, p.clone()));
    let server = accept(&l, &acceptor).await.expect("server handshake");
    assert!(server
        .get_ref()
        .1
        .peer_certificates()
        .is_some_and(|c| c.len() == 1));
    expect_opened(&mut ev, 1).await;

    // authmode 3: sent too, the server not checked.
    p.auth = TlsAuth::ClientOnly;
    p.ca.clear();
    net.execute(open_tls(2, "localhost", port, p));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 2).await;

    net.execute(open_tls(
        3,
        "localhost",
        port,
        params(TlsAuth::Server, pki.ca_pem.as_bytes()),
    ));
    assert!(accept(&l, &acceptor).await.is_err());
    expect_handshake_failure(&mut ev, 3).await;
}

/// §14.3: an encrypted PKCS#8 key opens with its password; a wrong one is 19 before
/// any traffic.
#[tokio::test]
async fn s14_3_encrypted_pkcs8_key_needs_its_password() {
    use pkcs8::pkcs5::pbes2;
    let pki = Pki::new();
    let device = pki.client();
    let info = pkcs8::PrivateKeyInfo::try_from(device.key_der.as_slice()).unwrap();
    let scheme = pbes2::Parameters::pbkdf2_sha256_aes256cbc(2048, &[7u8; 16], &[9u8; 16]).unwrap();
    let encrypted = info.encrypt_with_params(scheme, b"s3cret").unwrap();
    let pem = encrypted
        .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
        .unwrap();

    let (l, acceptor, port) = tls_server(server_config(&pki.server(), TLS12, Some(&pki))).await;
    let (mut net, mut ev) = modem();
    let mut p = params(TlsAuth::Mutual, pki.ca_pem.as_bytes());
    p.client_cert = device.cert_pem.clone().into_bytes();
    p.client_key = pem.as_bytes().to_vec();
    p.key_password = Some("s3cret".into());
    net.execute(open_tls(1, "localhost", port, p.clone()));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 1).await;

    // The same key as DER.
    p.client_key = encrypted.as_bytes().to_vec();
    net.execute(open_tls(2, "localhost", port, p.clone()));
    let _server = accept(&l, &acceptor).await.expect("server handshake");
    expect_opened(&mut ev, 2).await;

    for (conn, password) in [(3, Some("wrong")), (4, None)] {
        p.key_password = password.map(str::to_string);
        net.execute(open_tls(conn, "localhost", port, p.clone()));
        assert_eq!(
            next(&mut ev).await,
            NetEvent::OpenFailed {
                conn: ConnId(conn),
                error: OpenError::Certificates
            }
        );
    }
}

/// §8.3: files that do not parse, or a key that is not the certificate's → 19, before
/// any traffic (no `Connected`).
#[tokio::test]
async fn s8_3_unusable_files_fail_before_any_traffic() {
    let pki = Pki::new();
    let device = pki.client();
    let stranger = pki.client();
    let port = free_port().await;
    let (mut net, mut ev) = modem();
    let base = params(TlsAuth::Mutual, pki.ca_pem.as_bytes());
    let cases = [
        (
            "garbage CA",
            b"not a certificate".to_vec(),
            device.cert_pem.clone(),
            device.key_pem.clone(),
        ),
        (
            "garbage cert",
            pki.ca_pem.clone().into_bytes(),
            "junk".into(),
            device.key_pem.clone(),
        ),
        (
            "garbage key",
            pki.ca_pem.clone().into_bytes(),
            device.cert_pem.clone(),
            "junk".into(),
        ),
        (
            "another key",
            pki.ca_pem.clone().into_bytes(),
            device.cert_pem.clone(),
            stranger.key_pem.clone(),
        ),
    ];
    for (i, (what, ca, cert, key)) in cases.into_iter().enumerate() {
        let mut p = base.clone();
        p.ca = ca;
        p.client_cert = cert.into_bytes();
        p.client_key = key.into_bytes();
        let conn = i as u64 + 1;
        net.execute(open_tls(conn, "127.0.0.1", port, p));
        assert_eq!(
            next(&mut ev).await,
            NetEvent::OpenFailed {
                conn: ConnId(conn),
                error: OpenError::Certificates
            },
            "{what}"
        );
    }
}

/// §14.4: the server closes during the handshake → 15; the core's negotiatetime ends a
/// handshake that never finishes with `Close`.
#[tokio::test]
async fn s14_4_server_that_closes_or_never_answers_during_the_handshake() {
    let pki = Pki::new();
    let (l, port) = listener().await;
    let (mut net, mut ev) = modem();
    net.execute(open_tls(
        1,
        "localhost",
        port,
        params(TlsAuth::Server, pki.ca_pem.as_bytes()),
    ));
    let (tcp, _) = timeout(WAIT, l.accept()).await.unwrap().unwrap();
    drop(tcp);
    expect_handshake_failure(&mut ev, 1).await;

    net.execute(open_tls(
        2,
        "localhost",
        port,
        params(TlsAuth::Server, pki.ca_pem.as_bytes()),
    ));
    let (_silent_server, _) = timeout(WAIT, l.accept()).await.unwrap().unwrap();
    assert_eq!(next(&mut ev).await, NetEvent::Connected { conn: ConnId(2) });
    net.execute(NetCommand::Close { conn: ConnId(2) });
    assert_eq!(next(&mut ev).await, NetEvent::Closed { conn: ConnId(2) });
}
