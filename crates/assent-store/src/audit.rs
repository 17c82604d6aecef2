//! The audit trail: every deletion, export, retention run and replay viewed, with who did it
//! and how much.
//!
//! It is the site owner's proof that a request was answered. It holds no personal data: the
//! subject appears only as a keyed hash ([`crate::SubjectHasher`]), so the trail can be kept
//! (and shown) long after the subject is gone, and whoever presents the same identifiers
//! again can be matched to their earlier request.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Deletion,
    Export,
    Retention,
    /// A session replay was played back: reading it is reading personal data.
    ReplayView,
}

impl AuditAction {
    /// The action [`AuditAction::as_str`] names; anything else reads as a retention run.
    pub fn from_name(name: &str) -> AuditAction {
        match name {
            "deletion" => AuditAction::Deletion,
            "export" => AuditAction::Export,
            "replay_view" => AuditAction::ReplayView,
            _ => AuditAction::Retention,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Deletion => "deletion",
            AuditAction::Export => "export",
            AuditAction::Retention => "retention",
            AuditAction::ReplayView => "replay_view",
        }
    }
}

/// Rows touched, by kind (`events`, `identity_links`, `consent`, …).
pub type Counts = BTreeMap<String, u64>;

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Milliseconds since 1970.
    pub at_ms: i64,
    /// The admin token's name, `cli`, or `retention-sweeper`.
    pub actor: String,
    pub action: AuditAction,
    pub project: String,
    /// The subject's keyed hash; none for retention runs.
    pub subject_hash: Option<String>,
    pub counts: Counts,
}

pub(crate) fn record(tx: &Transaction, entry: &AuditEntry) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, project, subject_hash, counts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        entry.at_ms,
        entry.actor,
        entry.action.as_str(),
        entry.project,
        entry.subject_hash,
        serde_json::to_string(&entry.counts).expect("counts serialise"),
    ])?;
    Ok(())
}

/// The newest `limit` entries of a project, newest first.
pub fn list_audit(
    conn: &Connection,
    project: &str,
    limit: u32,
) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut query = conn.prepare_cached(
        "SELECT at, actor, action, subject_hash, counts FROM audit_log
         WHERE project = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = query.query_map(params![project, limit], |r| {
        let action = AuditAction::from_name(&r.get::<_, String>(2)?);
        Ok(AuditEntry {
            at_ms: r.get(0)?,
            actor: r.get(1)?,
            action,
            project: project.to_string(),
            subject_hash: r.get(3)?,
            counts: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        })
    })?;
    rows.collect()
}

impl crate::SqliteStore {
    /// Appends an entry to the audit trail, through the writer.
    pub async fn record_audit(&self, entry: AuditEntry) -> Result<(), crate::StoreError> {
        self.maintain(move |tx, _| record(tx, &entry))?.await
    }
}
