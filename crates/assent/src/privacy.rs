//! `assent forget`, `assent export` and `assent retention run`: privacy operations from the
//! command line, on the data directory's store directly.
//!
//! They work whether or not the server runs: the store's writer is opened here too (SQLite
//! serialises the two writers), and a running server sees new suppression entries before its
//! next commit (it checks `PRAGMA data_version`). The audit trail records the actor `cli`
//! (or `--actor`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use assent_server::config::Settings;
use assent_server::retention_sweeper;
use assent_server::stores::Purpose;
use assent_store::audit::{AuditAction, AuditEntry};
use assent_store::deletion::DeletionRequest;
use assent_store::retention::NothingExpired;
use assent_store::Store;
use clap::{Args, Subcommand};

/// Which store and project a command works on.
#[derive(Args)]
pub struct Target {
    /// The configuration file whose data directory holds the store; by default the
    /// development project `assent serve` made. ASSENT_DATA_DIR overrides its data_dir.
    #[arg(long, env = "ASSENT_CONFIG")]
    config: Option<PathBuf>,
    /// The project; may be left out when the configuration has only one.
    #[arg(long)]
    project: Option<String>,
    /// Who is acting, for the audit trail.
    #[arg(long, default_value = "cli")]
    actor: String,
}

#[derive(Subcommand)]
pub enum RetentionCommand {
    /// Delete what each project keeps no longer ([projects.retention]) and give the disk
    /// space back.
    Run {
        /// As for `forget`: by default the development project `assent serve` made.
        #[arg(long, env = "ASSENT_CONFIG")]
        config: Option<PathBuf>,
        /// Only say what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
}

pub(crate) fn project(settings: &Settings, asked: Option<&str>) -> Result<String, ExitCode> {
    let ids: Vec<&str> = settings.projects.iter().map(|p| p.id.as_str()).collect();
    match (asked, ids.as_slice()) {
        (Some(asked), _) if ids.contains(&asked) => Ok(asked.to_string()),
        (None, [only]) => Ok(only.to_string()),
        (Some(asked), _) => {
            eprintln!(
                "no project {asked:?} in the configuration; it has: {}",
                ids.join(", ")
            );
            Err(ExitCode::from(2))
        }
        (None, _) => {
            eprintln!(
                "the configuration has several projects; choose one with --project ({})",
                ids.join(", ")
            );
            Err(ExitCode::from(2))
        }
    }
}

/// The configuration's store, behind the store seam (the shared database itself when there is
/// a queue: commands never go through the ingest log).
pub(crate) fn open_store(settings: &Settings) -> Result<std::sync::Arc<dyn Store>, ExitCode> {
    let mut settings = settings.clone();
    // A command waits longer than ingest for a lock held by the running collector.
    settings.busy_timeout_ms = settings.busy_timeout_ms.max(5000);
    assent_server::stores::open(&settings, None, Purpose::Other).map_err(|e| {
        eprintln!("assent: {e}");
        ExitCode::FAILURE
    })
}

pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts on any supported OS")
        .block_on(future)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
}

/// `assent forget --subject ID`.
pub fn forget(target: &Target, subject: &str) -> ExitCode {
    let run = || -> Result<ExitCode, ExitCode> {
        let settings = crate::configuration::load_or_exit(target.config.as_deref())?;
        let project = project(&settings, target.project.as_deref())?;
        let store = open_store(&settings)?;
        let request = DeletionRequest {
            job_id: uuid::Uuid::new_v4().to_string(),
            project,
            id: subject.to_string(),
            actor: target.actor.clone(),
        };
        let job_id = request.job_id.clone();
        let outcome = block_on(async {
            store.accept_deletion(request).await?;
            store.run_deletion(job_id).await
        });
        store.close();
        match outcome {
            Ok(None) => {
                eprintln!("assent: the deletion job vanished before it finished");
                Ok(ExitCode::FAILURE)
            }
            Ok(Some(job)) => {
                println!(
                    "deleted subject (hash {}) in project {}",
                    job.subject_hash.unwrap_or_default(),
                    job.project
                );
                for (kind, n) in &job.counts {
                    println!("  {kind}: {n}");
                }
                println!("job {}", job.job);
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                eprintln!("assent: the deletion was rolled back: {e}");
                Ok(ExitCode::FAILURE)
            }
        }
    };
    run().unwrap_or_else(|code| code)
}

/// `assent export --subject ID --out FILE`.
pub fn export(target: &Target, subject: &str, out: &Path) -> ExitCode {
    let run = || -> Result<ExitCode, ExitCode> {
        let settings = crate::configuration::load_or_exit(target.config.as_deref())?;
        let project = project(&settings, target.project.as_deref())?;
        let store = open_store(&settings)?;
        // Written beside the target and renamed at the end: a failed export leaves no file
        // that could pass for a complete answer to an access request.
        let partial = partial_path(out);
        let file = std::fs::File::create(&partial).map_err(|e| {
            eprintln!("cannot create {}: {e}", partial.display());
            ExitCode::from(2)
        })?;
        let mut writer = std::io::BufWriter::new(file);
        let written = store
            .write_export(&project, subject, now_ms(), &mut writer)
            .and_then(|done| {
                let file = writer.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                std::fs::rename(&partial, out)?;
                Ok(done)
            });
        let code = match written {
            Ok((subject, counts)) => {
                let summary: Vec<String> =
                    counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
                let entry = AuditEntry {
                    at_ms: now_ms(),
                    actor: target.actor.clone(),
                    action: AuditAction::Export,
                    project,
                    subject_hash: Some(store.subject_hash(&subject.ids)),
                    counts,
                };
                if let Err(e) = block_on(store.record_audit(entry)) {
                    eprintln!(
                        "assent: the export was written but not recorded in the audit trail: {e}"
                    );
                }
                println!("wrote {} ({})", out.display(), summary.join(", "));
                ExitCode::SUCCESS
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                eprintln!(
                    "assent: export failed, nothing was written to {}: {e}",
                    out.display()
                );
                ExitCode::FAILURE
            }
        };
        store.close();
        Ok(code)
    };
    run().unwrap_or_else(|code| code)
}

/// `FILE.partial` beside `FILE`.
fn partial_path(out: &Path) -> std::path::PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

/// `assent retention run [--dry-run]`.
pub fn retention(command: RetentionCommand) -> ExitCode {
    let RetentionCommand::Run { config, dry_run } = command;
    let run = || -> Result<ExitCode, ExitCode> {
        let settings = crate::configuration::load_or_exit(config.as_deref())?;
        let rules = retention_sweeper::rules(&settings.projects);
        if rules.is_empty() {
            println!("no project has a retention rule ([projects.retention]); nothing to do");
            return Ok(ExitCode::SUCCESS);
        }
        let store = open_store(&settings)?;
        let report = if dry_run {
            block_on(store.retention_preview(rules.clone(), now_ms()))
        } else {
            block_on(store.run_retention(
                rules.clone(),
                now_ms(),
                "cli".to_string(),
                NothingExpired::Audit,
            ))
        };
        store.close();
        let report = report.map_err(|e| {
            eprintln!("assent: retention failed: {e}");
            ExitCode::FAILURE
        })?;
        let verb = if dry_run { "would delete" } else { "deleted" };
        for rule in &rules {
            let counts = report
                .projects
                .get(&rule.project)
                .cloned()
                .unwrap_or_default();
            let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
            let summary = if summary.is_empty() {
                "nothing".to_string()
            } else {
                summary.join(", ")
            };
            println!("{}: {verb} {summary}", rule.project);
        }
        Ok(ExitCode::SUCCESS)
    };
    run().unwrap_or_else(|code| code)
}
