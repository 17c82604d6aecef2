//! `assent visitors`: daily unique visitors, counted by the cookieless visitor hash.

use std::path::Path;
use std::process::ExitCode;

use crate::privacy::{block_on, open_store, settings};

pub fn run(config: &Path, days: u32) -> ExitCode {
    let run = || -> Result<ExitCode, ExitCode> {
        let settings = settings(config)?;
        let store = open_store(&settings)?;
        let rows = block_on(store.visitors_per_day(days));
        store.close();
        let rows = rows.map_err(|e| {
            eprintln!("cannot count visitors: {e}");
            ExitCode::FAILURE
        })?;
        println!(
            "{:<20} {:<10} {:>9} {:>9}",
            "project", "day (UTC)", "visitors", "events"
        );
        for row in rows {
            println!(
                "{:<20} {:<10} {:>9} {:>9}",
                row.project, row.day, row.visitors, row.events
            );
        }
        Ok(ExitCode::SUCCESS)
    };
    run().unwrap_or_else(|code| code)
}
