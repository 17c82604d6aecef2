//! `assent consent …`: checks on the consent ledger.

use std::path::PathBuf;
use std::process::ExitCode;

use assent_server::config;
use assent_store::SqliteStore;
use clap::Subcommand;
use rusqlite::{Connection, OpenFlags};

#[derive(Subcommand)]
pub enum Command {
    /// Walk the ledger's hash chain and report the first entry that was changed, removed or
    /// reordered after it was written. Exits 0 when every link holds, 1 when one does not.
    Verify {
        /// The configuration file whose data directory holds the store.
        #[arg(long, env = "ASSENT_CONFIG")]
        config: PathBuf,
    },
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Verify { config } => verify(&config),
    }
}

fn verify(config: &std::path::Path) -> ExitCode {
    let settings = match config::load(config) {
        Ok(settings) => settings,
        Err(problems) => {
            eprint!("{problems}");
            return ExitCode::from(2);
        }
    };
    let path = settings.data_dir.join(SqliteStore::FILE);
    let conn = match Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("cannot open the store at {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    match assent_store::verify_ledger(&conn) {
        Ok(n) => {
            println!("consent ledger OK: {n} entries, every link holds");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("consent ledger BROKEN: {e}");
            ExitCode::FAILURE
        }
    }
}
