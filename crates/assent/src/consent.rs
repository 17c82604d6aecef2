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
    /// Start digesting a project's new ledger entries with a new key. Older entries keep the
    /// key they were digested with; deleting an old key from `ledger.keys` makes its entries
    /// match no identifier ever again (the chain still verifies). Takes effect when the
    /// collector next starts.
    RotateKey {
        /// The configuration file whose keys directory holds the ledger keys.
        #[arg(long, env = "ASSENT_CONFIG")]
        config: PathBuf,
        /// The project whose key is rotated.
        #[arg(long)]
        project: String,
    },
}

pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Verify { config } => verify(&config),
        Command::RotateKey { config, project } => rotate_key(&config, &project),
    }
}

fn rotate_key(config: &std::path::Path, project: &str) -> ExitCode {
    let settings = match config::load(config) {
        Ok(settings) => settings,
        Err(problems) => {
            eprint!("{problems}");
            return ExitCode::from(2);
        }
    };
    if !settings.projects.iter().any(|p| p.id == project) {
        eprintln!("assent: no project {project:?} in {}", config.display());
        return ExitCode::from(2);
    }
    let keys_dir = settings.keys_dir();
    let rotated = assent_store::keyring::Keyring::open(&keys_dir)
        .and_then(|ring| ring.rotate_ledger_key(project));
    match rotated {
        Ok(key) => {
            println!(
                "project {project}: new ledger entries are digested with key {} (in {}); \
                 restart the collector for it to take effect",
                key.id,
                keys_dir.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "assent: cannot rotate the ledger key in {}: {e}",
                keys_dir.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// The store of a configuration, opened read-only, or the exit code after saying why not.
pub fn open_read_only(config: &std::path::Path) -> Result<Connection, ExitCode> {
    let settings = config::load(config).map_err(|problems| {
        eprint!("{problems}");
        ExitCode::from(2)
    })?;
    let path = settings.data_dir.join(SqliteStore::FILE);
    let conn =
        Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
            eprintln!("cannot open the store at {}: {e}", path.display());
            ExitCode::from(2)
        })?;
    let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
    Ok(conn)
}

fn verify(config: &std::path::Path) -> ExitCode {
    let conn = match open_read_only(config) {
        Ok(conn) => conn,
        Err(code) => return code,
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
