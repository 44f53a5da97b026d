//! A real SMTP server for the tests: aiosmtpd (tests/smtp_sink.py) on a free port,
//! writing each accepted message as JSON into a folder.

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// aiosmtpd on a free port, writing each accepted message as JSON into a folder.
pub struct SmtpSink {
    /// Its port (kept across restarts, so the configured transport reaches it again).
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// `plain`, or `starttls`/`tls` with the certificate and key files.
    mode: Vec<String>,
}

impl SmtpSink {
    /// Starts the server, in clear. Fails (never skips) when aiosmtpd is missing.
    pub fn start() -> SmtpSink {
        SmtpSink::start_mode(&["plain"])
    }

    /// Starts the server with `starttls CERT KEY` or `tls CERT KEY` (tests/smtp_sink.py).
    pub fn start_mode(mode: &[&str]) -> SmtpSink {
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "the reminder tests need a real SMTP server: `python3 -c \"import aiosmtpd\"` \
             failed. Install it with `python3 -m pip install aiosmtpd` (.ci/run does)."
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut sink = SmtpSink {
            port,
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
            mode: mode.iter().map(|m| m.to_string()).collect(),
        };
        sink.up();
        sink
    }

    fn up(&mut self) {
        assert!(self.child.is_none(), "already running");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let child = Command::new("python3")
            .arg(script)
            .args(["127.0.0.1", &self.port.to_string()])
            .arg(self.dir.path())
            .args(&self.mode)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 tests/smtp_sink.py");
        self.child = Some(child);
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the SMTP server did not listen on port {}", self.port);
    }

    /// Kills the server: connections are refused until [`SmtpSink::restart`].
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the SMTP server still answers after being killed");
    }

    /// Starts it again on the same port.
    pub fn restart(&mut self) {
        self.up();
    }

    /// Every message accepted so far, in no particular order (find a mail by its
    /// recipient and subject).
    pub fn messages(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("sink dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("read message");
                out.push(serde_json::from_str(&text).expect("message JSON"));
            }
        }
        out
    }

    /// How many times each Message-ID arrived.
    pub fn per_message_id(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for msg in self.messages() {
            let id = msg["message_id"].as_str().unwrap_or("(none)").to_owned();
            *m.entry(id).or_default() += 1;
        }
        m
    }

    /// Settings that send to this server in clear (it speaks no TLS).
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("QUOTA_LEVY__MAIL__SMTP_HOST", "127.0.0.1".to_owned()),
            ("QUOTA_LEVY__MAIL__SMTP_PORT", self.port.to_string()),
            ("QUOTA_LEVY__MAIL__SMTP_TLS", "none".to_owned()),
            ("QUOTA_LEVY__MAIL__SMTP_TIMEOUT_SECS", "10".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The text of a message's part in `lang` (`zh-CN`, `en`).
pub fn text_part<'a>(msg: &'a Value, lang: &str) -> &'a str {
    msg["parts"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["language"] == lang))
        .and_then(|p| p["text"].as_str())
        .unwrap_or_else(|| panic!("no {lang} part in {msg}"))
}
