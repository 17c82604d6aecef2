//! `assent sink`: drains the ingest log (`[queue]`) into the shared PostgreSQL store.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use assent_server::config::StoreBackend;
use assent_server::stores::Purpose;

pub fn run(config: &Path) -> ExitCode {
    crate::init_logging();
    let settings = match crate::configuration::load_or_exit(Some(config)) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let (Some(queue), StoreBackend::Postgres { url }) = (&settings.queue, &settings.store_backend)
    else {
        eprintln!(
            "assent: {} has no [queue] to drain: a sink needs [queue] backend = \"nats\" and \
             [store] backend = \"postgres\"",
            config.display()
        );
        return ExitCode::from(2);
    };
    let store = match assent_server::stores::open_postgres(&settings, url, None, Purpose::Other) {
        Ok(store) => Arc::new(store),
        Err(e) => {
            eprintln!("assent: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime starts on any supported OS");
    // Tests and scripts wait for this line.
    println!("assent sink draining {} into PostgreSQL", queue.stream);
    let outcome = runtime.block_on(assent_nats::sink::run(
        queue,
        store.clone(),
        crate::shutdown_signal(),
    ));
    store.close();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("assent: {e}");
            ExitCode::FAILURE
        }
    }
}
