//! The real `assent` binary, started as a user would, on a random port.
#![allow(dead_code)] // each test file uses its own part of this

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub fn assent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_assent"))
}

/// `assent serve --config FILE`, running until dropped (or killed by the test).
pub struct Collector {
    pub child: Child,
    pub url: String,
    pub http: reqwest::Client,
}

impl Collector {
    pub fn start(config: &Path) -> Collector {
        let mut child = assent()
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("the assent binary starts");
        let url = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map(Result::unwrap)
            .find_map(|l| l.strip_prefix("assent listening on ").map(str::to_string))
            .expect("the collector prints its address");
        Collector {
            child,
            url,
            http: reqwest::Client::new(),
        }
    }

    /// The most memory the process has held at once, in bytes (`VmHWM`).
    pub fn peak_memory(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("Linux reports VmHWM");
        kb * 1024
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
