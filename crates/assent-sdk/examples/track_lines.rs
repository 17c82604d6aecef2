//! Tracks one event per line of standard input, with an on-disk spool, and prints
//! `accepted <messageId>` once `send` has accepted it. At the end of the input it delivers
//! everything and exits; killed before that, it loses nothing it printed: the next run with
//! the same spool sends what was left.
//!
//!     cargo run -p assent-sdk --example track_lines -- http://127.0.0.1:8080 pk_demo ./spool

use std::io::BufRead;
use std::time::Duration;

use assent_sdk::{Client, Consent, Options};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, write_key, spool] = args.as_slice() else {
        return Err("usage: track_lines <endpoint> <write key> <spool directory>".into());
    };
    let client = Client::new(endpoint, write_key, Options::default().spool(spool))?;
    eprintln!("{} events left by an earlier run", client.stats().replayed);
    // The process is a backend job acting for one consenting user.
    let consent = Consent::new()
        .id("c-lines")
        .grant("analytics")
        .source("api");

    let (lines_tx, mut lines) = tokio::sync::mpsc::channel::<String>(64);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines_tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = lines.recv().await {
        let receipt = client
            .track(line)
            .consent(&consent)
            .user_id("job-user")
            .send()
            .await?;
        if let Some(id) = receipt.message_id {
            println!("accepted {id}");
        }
    }
    client.shutdown(Duration::from_secs(30)).await?;
    eprintln!("delivered {}", client.stats().delivered);
    Ok(())
}
