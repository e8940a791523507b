//! The `serde` feature: every boundary type survives a JSON round trip, byte payloads
//! are readable C strings. Run with `--features serde`.
#![cfg(feature = "serde")]

use at7600_core::config::Radio;
use at7600_core::{
    ConnId, Input, ModemConfig, NetCommand, NetEvent, OpenError, Protocol, SendOutcome,
    SocketOptions,
};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

fn round_trip<T>(value: &T) -> String
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value, "{json}");
    json
}

fn all_bytes() -> Vec<u8> {
    (0..=255).collect()
}

#[test]
fn inputs_round_trip_with_c_string_payloads() {
    let peer = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 4000);
    let conn = ConnId(3);
    let events = vec![
        NetEvent::Attached {
            ip: Ipv4Addr::new(10, 0, 0, 1),
        },
        NetEvent::AttachFailed,
        NetEvent::Detached,
        NetEvent::NetworkLost,
        NetEvent::Opened {
            conn,
            remote: peer,
            local_port: 5,
        },
        NetEvent::OpenFailed {
            conn,
            error: OpenError::Dns,
        },
        NetEvent::Data {
            conn,
            data: all_bytes(),
        },
        NetEvent::Datagram {
            conn,
            from: peer,
            data: b"dg".to_vec(),
        },
        NetEvent::SendDone {
            conn,
            outcome: SendOutcome::Full,
        },
        NetEvent::Writable { conn },
        NetEvent::AckStatus { conn, acked: 9 },
        NetEvent::PeerClosed { conn },
        NetEvent::Closed { conn },
        NetEvent::Listening { server: 1 },
        NetEvent::ListenFailed { server: 2 },
        NetEvent::Accepted {
            server: 0,
            conn: ConnId::accepted(1),
            peer,
        },
        NetEvent::Resolved {
            query: 1,
            addr: None,
        },
    ];
    let mut inputs = vec![
        Input::Host(all_bytes()),
        Input::Dtr(false),
        Input::Timeout,
        Input::Radio(Radio::default()),
    ];
    inputs.extend(events.into_iter().map(Input::Net));
    for input in &inputs {
        round_trip(input);
    }
    assert_eq!(
        round_trip(&Input::Host(b"AT\r\n\x1a\\".to_vec())),
        r#"{"host":"AT\\r\\n\\x1A\\\\"}"#
    );
    assert_eq!(
        round_trip(&NetEvent::Data {
            conn,
            data: b"hi".to_vec()
        }),
        r#"{"type":"data","conn":3,"data":"hi"}"#
    );
}

#[test]
fn commands_and_config_round_trip() {
    let conn = ConnId(1);
    let commands = [
        NetCommand::Attach,
        NetCommand::Detach,
        NetCommand::Open {
            conn,
            protocol: Protocol::Udp,
            remote: Some(("example.com".into(), 7)),
            local_port: None,
            options: SocketOptions {
                retries: 3,
                min_rto: Duration::from_millis(1500),
                keepalive: None,
                dns: Some([Ipv4Addr::new(8, 8, 8, 8), Ipv4Addr::new(8, 8, 4, 4)]),
            },
            tls: None,
        },
        NetCommand::Send {
            conn,
            data: all_bytes(),
        },
        NetCommand::SendTo {
            conn,
            to: SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9),
            data: vec![],
        },
        NetCommand::Close { conn },
        NetCommand::QueryAck { conn },
        NetCommand::PauseRead { conn },
        NetCommand::ResumeRead { conn },
        NetCommand::Listen {
            server: 0,
            port: 80,
            backlog: 3,
            keepalive: None,
        },
        NetCommand::Unlisten { server: 0 },
        NetCommand::Resolve {
            query: 2,
            name: "x".into(),
            servers: None,
        },
    ];
    for cmd in &commands {
        round_trip(cmd);
    }
    round_trip(&ModemConfig::default());
}

#[test]
fn ssl_boundary_round_trips() {
    use at7600_core::{CertFile, StoreChange, TlsAuth, TlsParams};
    let file = CertFile {
        name: "中华.pem".into(),
        data: all_bytes(),
    };
    let json = round_trip(&Input::CertStore(vec![file.clone()]));
    assert!(json.contains(r"\\x00"), "payloads as C strings: {json}");
    round_trip(&StoreChange::Put(file));
    round_trip(&StoreChange::Delete {
        name: "ca.pem".into(),
    });
    round_trip(&NetEvent::Connected { conn: ConnId(4) });
    round_trip(&NetCommand::Open {
        conn: ConnId(4),
        protocol: Protocol::Tcp,
        remote: Some(("example.com".into(), 443)),
        local_port: Some(5000),
        options: SocketOptions {
            retries: 3,
            min_rto: Duration::from_millis(1500),
            keepalive: None,
            dns: None,
        },
        tls: Some(Box::new(TlsParams {
            version: 4,
            allow_tls13: false,
            auth: TlsAuth::Mutual,
            server_name: "example.com".into(),
            sni: true,
            verify_time: Some(1_715_912_102),
            cipher_suite: Some(0xC02F),
            ca: b"ca".to_vec(),
            client_cert: b"cert".to_vec(),
            client_key: all_bytes(),
            key_password: Some("pw".into()),
        })),
    });
    let mut config = ModemConfig::default();
    config.tls.tls13 = true;
    config.tls.cert_dir = Some("/tmp/certs".into());
    round_trip(&config);
}

#[test]
fn bad_payloads_are_refused_not_guessed() {
    let err = serde_json::from_str::<Input>(r#"{"host":"AT\\q"}"#).unwrap_err();
    assert!(err.to_string().contains("unknown escape"), "{err}");
}
