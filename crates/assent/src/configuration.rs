//! Which configuration a command runs with, the same way for every command.

use std::path::Path;
use std::process::ExitCode;

use assent_server::config::{self, Problems, Settings};

use crate::development;

/// The environment, with empty variables counted as unset.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `--config FILE` (or `ASSENT_CONFIG`) when given, else the development project that
/// `assent serve` made in the data directory; `ASSENT_LISTEN` and `ASSENT_DATA_DIR` win over
/// either. So right after `scripts/serve`, `assent visitors` needs no argument at all.
pub fn load(config: Option<&Path>) -> Result<Settings, Problems> {
    match config {
        Some(path) => {
            let mut settings = config::load(path)?;
            config::apply_env(&mut settings, env)?;
            Ok(settings)
        }
        None => development::existing(&env),
    }
}

/// [`load`], or the exit code after printing what is wrong.
pub fn load_or_exit(config: Option<&Path>) -> Result<Settings, ExitCode> {
    load(config).map_err(|problems| {
        eprint!("{problems}");
        ExitCode::from(2)
    })
}
