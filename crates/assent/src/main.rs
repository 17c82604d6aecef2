//! `assent`: the collector binary. See `assent --help`.

mod configuration;
mod consent;
mod demo_data;
mod demo_traffic;
mod development;
mod privacy;
mod sink;
mod visitors;

use std::path::PathBuf;
use std::process::ExitCode;

use assent_server::config::{self, Settings};
use clap::{Parser, Subcommand};

/// Ingest allocates a little for every field of every event, on both cores at once; mimalloc's
/// per-thread free lists make that cheaper than glibc's malloc (see bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "assent",
    version,
    about = "Consent-first product analytics you host yourself"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the collector. Without --config, runs a development project on ./data and prints
    /// its keys.
    Serve {
        /// The configuration file (TOML). ASSENT_LISTEN and ASSENT_DATA_DIR override it.
        #[arg(long, env = "ASSENT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Drain the ingest log ([queue]) into the shared PostgreSQL store: run any number, on any
    /// machines; each batch is committed in one transaction, then acknowledged.
    Sink {
        /// The configuration file, with [store] backend = "postgres" and [queue].
        #[arg(long, env = "ASSENT_CONFIG")]
        config: PathBuf,
    },
    /// Check a configuration file and explain every mistake in it, with its line and a fix.
    CheckConfig {
        /// The configuration file to check; by default the development project's
        /// (`$ASSENT_DATA_DIR/development.toml`, else `./data/development.toml`).
        #[arg(env = "ASSENT_CONFIG")]
        file: Option<PathBuf>,
    },
    /// Daily unique visitors per project, counted without cookies (by the daily visitor hash).
    Visitors {
        /// The configuration file whose data directory holds the store; by default the
        /// development project `assent serve` made. ASSENT_DATA_DIR overrides its data_dir.
        #[arg(long, env = "ASSENT_CONFIG")]
        config: Option<PathBuf>,
        /// How many days back to show.
        #[arg(long, default_value_t = 30)]
        days: u32,
    },
    /// The consent ledger: the proof of every consent choice.
    #[command(subcommand)]
    Consent(consent::Command),
    /// Delete everything stored about a subject (its whole identity graph) and drop its
    /// future events (GDPR Art. 17, CCPA delete).
    Forget {
        /// An anonymousId or userId.
        #[arg(long)]
        subject: String,
        #[command(flatten)]
        target: privacy::Target,
    },
    /// Write everything stored about a subject to one JSON file (GDPR Art. 15/20, CCPA know).
    Export {
        /// An anonymousId or userId.
        #[arg(long)]
        subject: String,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        target: privacy::Target,
    },
    /// Retention: delete data older than each project keeps it.
    #[command(subcommand)]
    Retention(privacy::RetentionCommand),
    /// Fill a project with the demo shop's made-up traffic (visits, sources, campaigns,
    /// devices, consent choices, orders), for a dashboard to show and benchmarks to read.
    DemoData(demo_data::DemoData),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { file } => {
            check_config(file.unwrap_or_else(|| development::file(&configuration::env)))
        }
        Command::Serve { config } => serve(config),
        Command::Sink { config } => sink::run(&config),
        Command::Consent(command) => consent::run(command),
        Command::Visitors { config, days } => visitors::run(config.as_deref(), days),
        Command::Forget { subject, target } => privacy::forget(&target, &subject),
        Command::Export {
            subject,
            out,
            target,
        } => privacy::export(&target, &subject, &out),
        Command::Retention(command) => privacy::retention(command),
        Command::DemoData(args) => demo_data::run(args),
    }
}

fn check_config(file: PathBuf) -> ExitCode {
    match config::load(&file) {
        Ok(settings) => {
            println!(
                "{}: OK ({} project{}, listening on {}, data in {})",
                file.display(),
                settings.projects.len(),
                if settings.projects.len() == 1 {
                    ""
                } else {
                    "s"
                },
                settings.listen,
                settings.data_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            eprint!("{problems}");
            ExitCode::from(2)
        }
    }
}

fn serve(config: Option<PathBuf>) -> ExitCode {
    init_logging();
    let settings = match config {
        Some(path) => configuration::load(Some(&path)),
        None => development::settings(configuration::env),
    };
    let settings = match settings {
        Ok(settings) => settings,
        Err(problems) => {
            eprint!("{problems}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts on any supported OS");
    match runtime.block_on(run(settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("assent: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    let data_dir = settings.data_dir.clone();
    let collector = assent_server::Collector::open(settings.clone())?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "collector started");
    // Tests and scripts read this line to find a random port (and take it to mean the log
    // line above is written): keep its shape.
    println!("assent listening on http://{addr}");
    collector.serve(listener, shutdown_signal()).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight and committing them");
}

/// Logs to stderr; `RUST_LOG` takes the usual `target=level` list (default `info`). Colours
/// only on a terminal (and never with `NO_COLOR`): a file, journald or a pipe gets plain text.
pub(crate) fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let colour = std::io::stderr().is_terminal() && configuration::env("NO_COLOR").is_none();
    let filter: Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(colour),
        )
        .with(filter)
        .init();
}
