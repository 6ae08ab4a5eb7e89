//! A hostile server on loopback: redirects that would carry the token elsewhere, and bodies
//! that never end. Each scripted answer is written by hand on a raw socket.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use zcrm_client::{AuthToken, Client, ClientConfig, ClientError, Endpoint, RetryPolicy};
use zcrm_client::{Ledger, LedgerConfig, TransportConfig};
use zcrm_protocol::BudgetRule;
use zcrm_protocol::XmlDataBuilder;
use zcrm_protocol::params::WriteParams;

use crate::TOKEN;

/// A loopback listener that answers every connection with `answer`, counting requests and
/// keeping the bytes it was sent.
struct Scripted {
    url: String,
    requests: Arc<AtomicUsize>,
    received: Arc<std::sync::Mutex<Vec<u8>>>,
}

fn serve(answer: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (count, keep) = (requests.clone(), received.clone());
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (count, keep, answer) = (count.clone(), keep.clone(), answer.clone());
            std::thread::spawn(move || {
                let head = read_request(&mut stream);
                count.fetch_add(1, Ordering::SeqCst);
                keep.lock().unwrap().extend_from_slice(&head);
                answer(&mut stream);
            });
        }
    });
    Scripted { url, requests, received }
}

/// Reads one request (head and a Content-Length body).
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut all = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return all;
        }
        all.extend_from_slice(line.as_bytes());
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    all.extend_from_slice(&body);
    all
}

fn client_for(url: &str, dir: &tempfile::TempDir, transport: TransportConfig) -> Client {
    let cfg = LedgerConfig {
        org: "hostile".into(),
        consumer: "tests".into(),
        timezone: zcrm_client::budget::timezone("UTC").unwrap(),
        rule: BudgetRule::Fixed(1_000),
        share: 1.0,
    };
    let ledger = Arc::new(Ledger::open(&dir.path().join("ledger.sqlite"), cfg).unwrap());
    let cfg = ClientConfig {
        endpoint: Endpoint::parse(url).unwrap(),
        token: AuthToken::new(TOKEN),
        transport,
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
    };
    Client::new(cfg, ledger).unwrap()
}

fn one_row() -> String {
    let mut x = XmlDataBuilder::new("Leads", 100);
    x.push_row([("Last Name", "Redirected"), ("Company", "Acme")]).unwrap();
    x.finish().unwrap()
}

#[test]
fn no_redirect_is_followed_and_the_token_goes_nowhere_else() {
    let elsewhere = serve(|s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    for status in
        ["307 Temporary Redirect", "302 Found", "301 Moved Permanently", "308 Permanent Redirect"]
    {
        let target = format!("{}/crm/private/xml/Leads/insertRecords", elsewhere.url);
        let location = target.clone();
        let status = status.to_owned();
        let hostile = serve(move |s| {
            let answer = format!(
                "HTTP/1.1 {status}\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = s.write_all(answer.as_bytes());
        });
        let dir = tempfile::tempdir().unwrap();
        let c = client_for(&hostile.url, &dir, TransportConfig::default());
        let err = c.insert_records("Leads", one_row(), &WriteParams::multi_row()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ClientError::Redirected { .. }), "{text}");
        assert!(text.contains(&target), "the error names the location: {text}");
        assert!(!text.contains(TOKEN));
        assert_eq!(hostile.requests.load(Ordering::SeqCst), 1, "sent once, not retried");
        // Reads are not retried into a redirect either.
        let err = c.get_fields("Leads").unwrap_err();
        assert!(matches!(err, ClientError::Redirected { .. }), "{err}");
        assert_eq!(hostile.requests.load(Ordering::SeqCst), 2);
    }
    assert_eq!(elsewhere.requests.load(Ordering::SeqCst), 0, "nothing reached the other host");
    assert!(elsewhere.received.lock().unwrap().is_empty());
}

/// Sends an endless chunked body of `<response>` filler, a chunk every `pause`.
fn endless(s: &mut TcpStream, pause: Duration) {
    let _ = s.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let chunk = vec![b'x'; 64 * 1024];
    let head = format!("{:x}\r\n", chunk.len());
    loop {
        if s.write_all(head.as_bytes()).is_err()
            || s.write_all(&chunk).is_err()
            || s.write_all(b"\r\n").is_err()
        {
            return;
        }
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
}

#[test]
fn an_endless_body_is_cut_at_the_size_cap() {
    let hostile = serve(|s| endless(s, Duration::ZERO));
    let dir = tempfile::tempdir().unwrap();
    let transport = TransportConfig { max_body_bytes: 4 << 20, ..TransportConfig::default() };
    let c = client_for(&hostile.url, &dir, transport);
    let started = Instant::now();
    let err = c.get_fields("Leads").unwrap_err();
    assert!(matches!(err, ClientError::Transport { attempts: 4, .. }), "{err}");
    assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(60));
    // A write answered so is in doubt (the server may have applied it), never resent.
    let err = c.insert_records("Leads", one_row(), &WriteParams::multi_row()).unwrap_err();
    assert!(matches!(err, ClientError::InDoubt { .. }), "{err}");
    assert!(err.to_string().contains("larger than 4 MiB"), "{err}");
    assert_eq!(hostile.requests.load(Ordering::SeqCst), 5);
}

#[test]
fn a_trickling_body_is_cut_at_the_call_deadline() {
    let hostile = serve(|s| endless(s, Duration::from_millis(100)));
    let dir = tempfile::tempdir().unwrap();
    let transport = TransportConfig {
        timeout: Duration::from_millis(900),
        max_body_bytes: 1 << 30,
        ..TransportConfig::default()
    };
    let c = client_for(&hostile.url, &dir, transport);
    let started = Instant::now();
    let err = c.insert_records("Leads", one_row(), &WriteParams::multi_row()).unwrap_err();
    assert!(matches!(err, ClientError::InDoubt { .. }), "{err}");
    assert!(err.to_string().contains("deadline"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}
