//! The dashboard in a real browser: Debian's headless Chromium, driven through
//! chromium-driver (WebDriver), loads the page from a running daemon with a token,
//! watches the PTY modem, clicks a fault button, and the modem's host sees the URC.
//! A screenshot is kept under target/. Loopback only; every wait is bounded.
//!
//! Without chromium and chromium-driver the test says so loudly and passes, except
//! under CI (`CI` set), where it fails: CI installs them (`.ci/run`).

mod common;

use common::{Port, PtyDaemon, WAIT};
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "dashboard-token-0123456789";

/// The browser and its driver, if installed (Debian: chromium, chromium-driver).
fn browser() -> Option<(PathBuf, PathBuf)> {
    let find = |names: &[&str]| {
        names
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .or_else(|| {
                let path = std::env::var_os("PATH")?;
                std::env::split_paths(&path)
                    .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
                    .find(|p| p.is_file())
            })
    };
    let chromium = find(&["/usr/bin/chromium", "chromium", "chromium-browser"])?;
    let driver = find(&["/usr/bin/chromedriver", "chromedriver"])?;
    Some((chromium, driver))
}

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(path: &PathBuf) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver never listened");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless browser session with the flags a clean, offline run wants.
async fn open_browser(driver: &Driver, chromium: &PathBuf, profile: &std::path::Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
    ]
    .map(String::from)
    .into_iter()
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chromium, "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

/// Waits until the element's text contains `want`.
async fn wait_for_text(browser: &Client, id: &str, want: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = match browser.find(Locator::Id(id)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(want) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "#{id} never showed {want:?}: {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_network_lost_button_reaches_the_modem_line() {
    let Some((chromium, chromedriver)) = browser() else {
        let msg = "dashboard test: chromium and chromium-driver are not installed \
                   (apt-get install chromium chromium-driver); the browser test did NOT run";
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("\n!!!!! {msg} !!!!!\n");
        return;
    };
    let (daemon, control) = PtyDaemon::start_with_control(&[
        "--network",
        "sim",
        "--control-token",
        TOKEN,
        "--log-level",
        "error",
    ]);
    let port = Port::open(&daemon.link);
    port.cmd("ATE0\r", "OK\\r\\n");
    port.cmd("AT+NETOPEN\r", "+NETOPEN: 0\\r\\n");

    let driver = Driver::start(&chromedriver);
    let profile = tempfile::tempdir().expect("a fresh browser profile");
    let session = open_browser(&driver, &chromium, profile.path()).await;
    let browser = session.clone();
    let run = async move {
        browser
            .goto(&format!("http://{control}/"))
            .await
            .expect("the page loads");
        // With a token, nothing but the page comes without it.
        wait_for_text(&browser, "status", "bearer token").await;
        browser
            .find(Locator::Id("token"))
            .await
            .expect("the token field")
            .send_keys(TOKEN)
            .await
            .expect("typing");
        browser
            .find(Locator::Css("#auth button"))
            .await
            .expect("the Use button")
            .click()
            .await
            .expect("click Use");
        wait_for_text(&browser, "modem-1", "network-open").await;
        wait_for_text(&browser, "modem-1", "AT+NETOPEN").await;

        let watch = browser.wait().at_most(WAIT);
        watch
            .for_element(Locator::Id("watch-1"))
            .await
            .expect("the watch button")
            .click()
            .await
            .expect("click watch");
        let lost = browser.wait().at_most(WAIT);
        let button = lost
            .for_element(Locator::Id("fault-network-lost"))
            .await
            .expect("the network-lost button");
        // The transcript must be open before the fault, or its URC would not be in it:
        // a command typed now shows there once it is.
        let deadline = Instant::now() + WAIT;
        loop {
            port.cmd("AT\r", "OK\\r\\n");
            let text = browser
                .find(Locator::Id("transcript"))
                .await
                .expect("the transcript")
                .text()
                .await
                .unwrap_or_default();
            if text.contains("→ AT\\r") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the transcript never opened: {text:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        button.click().await.expect("click network-lost");

        // §6 (AT+NETOPEN): the network's loss is reported to the host unsolicited.
        port.read_until("\\r\\n+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\\r\\n");
        wait_for_text(&browser, "result", "network-lost: done").await;
        wait_for_text(
            &browser,
            "transcript",
            "+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY",
        )
        .await;
        wait_for_text(&browser, "modem-1", "network-lost").await;

        let png = browser.screenshot().await.expect("a screenshot");
        let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
        std::fs::write(&shot, png).expect("the screenshot is saved");
        eprintln!("dashboard screenshot: {}", shot.display());
    };
    // The session is closed whatever happened, so that no browser outlives the test.
    let outcome = tokio::time::timeout(Duration::from_secs(60), tokio::spawn(run)).await;
    let _ = session.close().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(failed)) => std::panic::resume_unwind(failed.into_panic()),
        Err(_) => panic!("the browser test did not finish within a minute"),
    }
}
