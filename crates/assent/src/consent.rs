//! `assent consent …`: checks on the consent ledger.

use std::path::PathBuf;
use std::process::ExitCode;

use assent_server::config;
use clap::Subcommand;

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

fn verify(config: &std::path::Path) -> ExitCode {
    let run = || -> Result<ExitCode, ExitCode> {
        let settings = crate::privacy::settings(config)?;
        let store = crate::privacy::open_store(&settings)?;
        let verified = crate::privacy::block_on(store.verify_ledger());
        store.close();
        Ok(match verified {
            Ok(n) => {
                println!("consent ledger OK: {n} entries, every link holds");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("consent ledger BROKEN: {e}");
                ExitCode::FAILURE
            }
        })
    };
    run().unwrap_or_else(|code| code)
}
