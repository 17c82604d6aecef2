//! `assent visitors`: daily unique visitors, counted by the cookieless visitor hash.

use std::path::Path;
use std::process::ExitCode;

use crate::consent::open_read_only;

pub fn run(config: Option<&Path>, days: u32) -> ExitCode {
    let conn = match open_read_only(config) {
        Ok(conn) => conn,
        Err(code) => return code,
    };
    let query = conn.prepare(
        "SELECT project, date(received_at / 1000, 'unixepoch') AS day,
                count(DISTINCT visitor_hash), count(*)
         FROM events
         WHERE received_at >= (unixepoch('now', 'start of day', ?1) * 1000)
         GROUP BY project, day ORDER BY project, day",
    );
    let rows = query.and_then(|mut q| {
        q.query_map([format!("-{days} days")], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()
    });
    match rows {
        Ok(rows) => {
            println!(
                "{:<20} {:<10} {:>9} {:>9}",
                "project", "day (UTC)", "visitors", "events"
            );
            for (project, day, visitors, events) in rows {
                println!("{project:<20} {day:<10} {visitors:>9} {events:>9}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot count visitors: {e}");
            ExitCode::FAILURE
        }
    }
}
