//! Subject export (GDPR Art. 15 and 20, CCPA "know"): one JSON document with everything
//! stored about a connected subject, written as it is read.
//!
//! Nothing is collected in memory: each section is one query whose rows are copied to the
//! output as they come, so a subject with a million events costs a buffer, not a heap. The
//! whole export reads one snapshot, so it is consistent even while ingest goes on.
//!
//! Adding a kind of data means adding one entry to [`SECTIONS`]. Session replays, kept in
//! `replays.db`, are read through the reader connection, which has that file attached
//! ([`crate::SqliteStore::reader`]).

use std::io::Write;

use rusqlite::{params, Connection};

use crate::audit::Counts;
use crate::subjects::{self, Subject};

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] crate::StoreError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("a stored replay chunk cannot be read: {0}")]
    DamagedReplay(String),
}

impl From<rusqlite::Error> for ExportError {
    fn from(e: rusqlite::Error) -> ExportError {
        ExportError::Store(e.into())
    }
}

/// The items of one JSON array, written as they are given.
pub struct Items<'a> {
    out: &'a mut dyn Write,
    count: u64,
}

impl Items<'_> {
    /// Appends one item that is already JSON text.
    pub fn push_json(&mut self, json: &str) -> std::io::Result<()> {
        if self.count > 0 {
            self.out.write_all(b",\n")?;
        }
        self.out.write_all(json.as_bytes())?;
        self.count += 1;
        Ok(())
    }
}

/// One top-level array of the document.
pub struct Section {
    /// Its key in the document, and in the counts.
    pub name: &'static str,
    pub write: fn(&Connection, &Subject, &mut Items) -> Result<(), ExportError>,
}

/// Every section of an export, in document order.
pub const SECTIONS: &[Section] = &[
    Section {
        name: "events",
        write: write_events,
    },
    Section {
        name: "identityLinks",
        write: write_links,
    },
    Section {
        name: "consent",
        write: write_consent,
    },
    Section {
        name: "replays",
        write: crate::replays::export_subject,
    },
];

/// Streams the rows of `sql` (one JSON text column, `?1` the ids, `?2` the project).
fn stream_rows(
    conn: &Connection,
    sql: &str,
    s: &Subject,
    items: &mut Items,
) -> Result<(), ExportError> {
    let mut query = conn.prepare_cached(sql)?;
    let mut rows = query.query(params![s.ids_json(), s.project])?;
    while let Some(row) = rows.next()? {
        items.push_json(row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?)?;
    }
    Ok(())
}

/// Each event whole, Segment-shaped as `events_json` shows it, partition by partition in the
/// order they were stored; including those sent under an anonymousId before the visitor
/// logged in.
///
/// The event is put together here rather than by the view's `json_patch`, which parses the
/// payload and fails on a deep one: an export must not be stopped by any one stored row. The
/// payload (an object the collector wrote) is spliced in as text, never parsed.
fn write_events(conn: &Connection, s: &Subject, items: &mut Items) -> Result<(), ExportError> {
    let dir = data_dir(conn)?;
    for day in crate::partition::list(&dir) {
        let partition = crate::partition::open(&dir, day, true)?;
        write_events_of(&partition, s, items)?;
    }
    Ok(())
}

/// The data directory of a connection to `events.db`.
fn data_dir(conn: &Connection) -> Result<std::path::PathBuf, ExportError> {
    conn.path()
        .and_then(|p| {
            std::path::Path::new(p)
                .parent()
                .map(std::path::Path::to_path_buf)
        })
        .ok_or_else(|| ExportError::Io(std::io::Error::other("the store has no data directory")))
}

/// The subject's events in one partition: through its subject indexes, or, in one that has
/// none yet (today's), by reading it through.
fn write_events_of(
    partition: &Connection,
    s: &Subject,
    items: &mut Items,
) -> Result<(), ExportError> {
    let which = if crate::partition::has_subject_indexes(partition, "main")? {
        "id IN (
            SELECT id FROM events WHERE anonymous_id IN (SELECT value FROM json_each(?1)) AND project = ?2
            UNION SELECT id FROM events WHERE user_id IN (SELECT value FROM json_each(?1)) AND project = ?2)"
    } else {
        "project = ?2 AND (anonymous_id IN (SELECT value FROM json_each(?1))
            OR user_id IN (SELECT value FROM json_each(?1)))"
    };
    let mut query = partition.prepare_cached(&format!(
        "SELECT message_id, type, event, anonymous_id, user_id, group_id, session_id, sequence,
                strftime('%Y-%m-%dT%H:%M:%fZ', timestamp / 1000.0, 'unixepoch'),
                strftime('%Y-%m-%dT%H:%M:%fZ', sent_at / 1000.0, 'unixepoch'),
                strftime('%Y-%m-%dT%H:%M:%fZ', received_at / 1000.0, 'unixepoch'),
                ip, visitor_hash, payload
         FROM events WHERE {which} ORDER BY id"
    ))?;
    let mut rows = query.query(params![s.ids_json(), s.project])?;
    while let Some(row) = rows.next()? {
        let kind: String = row.get(1)?;
        let name_key = if kind == "track" { "event" } else { "name" };
        let mut head = serde_json::Map::new();
        let mut put = |key: &str, value: serde_json::Value| {
            if !value.is_null() {
                head.insert(key.to_string(), value);
            }
        };
        put("messageId", row.get::<_, String>(0)?.into());
        put("type", kind.clone().into());
        put(name_key, row.get::<_, Option<String>>(2)?.into());
        for (key, column) in [("anonymousId", 3), ("userId", 4), ("groupId", 5)] {
            put(key, row.get::<_, Option<String>>(column)?.into());
        }
        for (key, column) in [("sessionId", 6), ("sequence", 7)] {
            put(key, row.get::<_, Option<i64>>(column)?.into());
        }
        for (key, column) in [
            ("timestamp", 8),
            ("sentAt", 9),
            ("receivedAt", 10),
            ("ip", 11),
            ("visitorHash", 12),
        ] {
            put(key, row.get::<_, Option<String>>(column)?.into());
        }
        let payload = row.get_ref(13)?.as_str().unwrap_or_default();
        items.push_json(&with_payload(
            &serde_json::Value::Object(head).to_string(),
            payload,
        ))?;
    }
    Ok(())
}

/// `{head…}` and `{payload…}` as one object, the payload's text kept as it is. A payload that
/// is not an object (a damaged row) is kept as a string under `unreadablePayload`.
pub fn with_payload(head: &str, payload: &str) -> String {
    let payload = payload.trim();
    let head = head.strip_suffix('}').unwrap_or(head);
    let is_object = payload.starts_with('{')
        && serde_json::from_str::<&serde_json::value::RawValue>(payload).is_ok();
    match payload.strip_prefix('{').map(str::trim_start) {
        Some("}") if is_object => format!("{head}}}"),
        Some(inner) if is_object => format!("{head},{inner}"),
        _ => format!(
            "{head},\"unreadablePayload\":{}}}",
            serde_json::Value::String(payload.to_string())
        ),
    }
}

fn write_links(conn: &Connection, s: &Subject, items: &mut Items) -> Result<(), ExportError> {
    stream_rows(
        conn,
        "SELECT json_object('anonymousId', anonymous_id, 'userId', user_id,
                'firstSeen', strftime('%Y-%m-%dT%H:%M:%fZ', first_seen / 1000.0, 'unixepoch'))
         FROM identity_links WHERE anonymous_id IN (SELECT value FROM json_each(?1)) AND project = ?2
         ORDER BY first_seen",
        s,
        items,
    )
}

fn write_consent(conn: &Connection, s: &Subject, items: &mut Items) -> Result<(), ExportError> {
    stream_rows(conn, CONSENT_HISTORY, s, items)
}

/// A subject's consent-ledger entries, oldest first: those recorded with one of its
/// identifiers, and those of the same consent ids recorded without any (the final withdrawal
/// an opt-out sends carries nothing but its consent id). `?1` ids as JSON, `?2` the project.
pub(crate) const CONSENT_HISTORY: &str = "
    WITH own AS (
        SELECT id, consent_id FROM consent_ledger WHERE anonymous_id IN (SELECT value FROM json_each(?1))
        UNION SELECT id, consent_id FROM consent_ledger WHERE user_id IN (SELECT value FROM json_each(?1)))
    SELECT json_object(
        'ledgerId', id,
        'consentId', consent_id,
        'anonymousId', anonymous_id,
        'userId', user_id,
        'states', json(json_extract(entry, '$.states')),
        'revision', json_extract(entry, '$.revision'),
        'source', json_extract(entry, '$.source'),
        'at', strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(entry, '$.at_ms') / 1000.0, 'unixepoch'),
        'messageId', json_extract(entry, '$.message_id'),
        'previousHash', previous_hash,
        'hash', hash)
    FROM consent_ledger
    WHERE project = ?2 AND (id IN (SELECT id FROM own) OR consent_id IN (SELECT consent_id FROM own))
    ORDER BY id";

/// A subject's consent history, each entry as JSON text (see [`CONSENT_HISTORY`]).
pub fn consent_history(
    conn: &Connection,
    project: &str,
    id: &str,
) -> Result<Vec<String>, ExportError> {
    let tx = conn.unchecked_transaction()?;
    let subject = subjects::resolve(&tx, project, id)?;
    let mut query = tx.prepare_cached(CONSENT_HISTORY)?;
    let entries = query
        .query_map(params![subject.ids_json(), subject.project], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(entries)
}

/// Writes the document's head — project, identifiers, when — without its closing brace: the
/// sections (`,\n"name": [\n…\n]`) follow it, and `}\n` ends the document. Every engine's
/// export writes the same document.
pub fn write_head(
    out: &mut dyn Write,
    subject: &Subject,
    generated_at: &str,
) -> std::io::Result<()> {
    let head = serde_json::json!({
        "project": subject.project,
        "identifiers": subject.ids,
        "generatedAt": generated_at,
    })
    .to_string();
    out.write_all(&head.as_bytes()[..head.len() - 1])
}

/// Writes the export of the subject `id` of `project` to `out`, and returns the subject and
/// how many items each section had. A subject never seen gives the same document, empty.
pub fn export_subject(
    conn: &Connection,
    project: &str,
    id: &str,
    generated_at_ms: i64,
    out: &mut dyn Write,
) -> Result<(Subject, Counts), ExportError> {
    // One read transaction: every section sees the same snapshot.
    let tx = conn.unchecked_transaction()?;
    let subject = subjects::resolve(&tx, project, id)?;
    let generated_at = tx.query_row(
        "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', ?1 / 1000.0, 'unixepoch')",
        [generated_at_ms],
        |r| r.get::<_, String>(0),
    )?;
    write_head(out, &subject, &generated_at)?;
    let mut counts = Counts::new();
    for section in SECTIONS {
        write!(out, ",\n\"{}\": [\n", section.name)?;
        let mut items = Items { out, count: 0 };
        (section.write)(&tx, &subject, &mut items)?;
        counts.insert(section.name.to_string(), items.count);
        out.write_all(b"\n]")?;
    }
    out.write_all(b"}\n")?;
    out.flush()?;
    Ok((subject, counts))
}

#[cfg(test)]
mod tests {
    use super::with_payload;

    #[test]
    fn the_payload_is_spliced_in_as_text_whatever_its_depth() {
        let deep = format!(
            "{{\"properties\":{}1{}}}",
            "[".repeat(2000),
            "]".repeat(2000)
        );
        let whole = with_payload(r#"{"type":"track"}"#, &deep);
        assert!(whole.starts_with(r#"{"type":"track","properties":[[["#));
        assert!(serde_json::from_str::<&serde_json::value::RawValue>(&whole).is_ok());
        assert_eq!(
            with_payload(r#"{"type":"page"}"#, "{}"),
            r#"{"type":"page"}"#
        );
        assert_eq!(
            with_payload(r#"{"type":"page"}"#, "not json"),
            r#"{"type":"page","unreadablePayload":"not json"}"#
        );
    }
}
