//! Subject export on PostgreSQL: the embedded store's document, section for section, read in
//! one repeatable-read transaction (one snapshot, however long it takes) and streamed: rows
//! come through a cursor, are handed one at a time to the blocking thread that writes them,
//! and never pile up in memory.

use std::io::Write;
use std::sync::Arc;

use assent_store::audit::Counts;
use assent_store::export::{with_payload, ExportError};
use assent_store::subjects::Subject;
use assent_store::{ChunkEncoding, StoreError};
use futures_util::{pin_mut, TryStreamExt};
use tokio::sync::mpsc;
use tokio_postgres::types::ToSql;
use tokio_postgres::{GenericClient, IsolationLevel, Row};

use crate::Shared;

/// A piece of the document, in order.
pub(crate) enum Piece {
    Head {
        subject: Subject,
        generated_at: String,
    },
    Section(&'static str),
    Item(String),
    /// Everything was read.
    End,
}

/// `2026-11-30T12:00:00.000Z`, as the embedded store writes times.
pub(crate) fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn read_error(e: tokio_postgres::Error) -> ExportError {
    ExportError::Store(crate::read_error(e))
}

/// Reads the export of `id` and sends it piece by piece; stops when the reader goes away.
pub(crate) async fn produce(
    shared: Arc<Shared>,
    project: String,
    id: String,
    generated_at_ms: i64,
    out: mpsc::Sender<Result<Piece, ExportError>>,
) {
    if let Err(e) = read_into(&shared, &project, &id, generated_at_ms, &out).await {
        let _ = out.send(Err(e)).await;
    }
}

async fn read_into(
    shared: &Shared,
    project: &str,
    id: &str,
    generated_at_ms: i64,
    out: &mpsc::Sender<Result<Piece, ExportError>>,
) -> Result<(), ExportError> {
    let closed = || ExportError::Io(std::io::Error::other("the export's reader went away"));
    let send = |piece: Piece| async move { out.send(Ok(piece)).await.map_err(|_| closed()) };
    let mut client = shared.client().await?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .map_err(read_error)?;
    let project = crate::text::pg(project).into_owned();
    let subject = crate::deletion::resolve(&tx, &project, id)
        .await
        .map_err(read_error)?;
    send(Piece::Head {
        subject: subject.clone(),
        generated_at: iso(generated_at_ms),
    })
    .await?;
    let ids = &subject.ids;
    let params: [&(dyn ToSql + Sync); 2] = [ids, &project];

    send(Piece::Section("events")).await?;
    let rows = tx
        .query_raw(
            "SELECT message_id, type, event, anonymous_id, user_id, group_id, session_id, sequence,
                    timestamp, sent_at, received_at, ip, visitor_hash, payload
             FROM events WHERE project = $2 AND (anonymous_id = ANY($1) OR user_id = ANY($1))
             ORDER BY day, received_at, dedupe_ts, message_id",
            params,
        )
        .await
        .map_err(read_error)?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(read_error)? {
        send(Piece::Item(event_json(&row))).await?;
    }

    send(Piece::Section("identityLinks")).await?;
    let rows = tx
        .query_raw(
            "SELECT anonymous_id, user_id, first_seen FROM identity_links
             WHERE anonymous_id = ANY($1) AND project = $2 ORDER BY first_seen",
            params,
        )
        .await
        .map_err(read_error)?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(read_error)? {
        let link = serde_json::json!({
            "anonymousId": row.get::<_, String>(0),
            "userId": row.get::<_, String>(1),
            "firstSeen": iso(row.get(2)),
        });
        send(Piece::Item(link.to_string())).await?;
    }

    send(Piece::Section("consent")).await?;
    for entry in consent_history_of(&tx, &subject).await? {
        send(Piece::Item(entry)).await?;
    }

    send(Piece::Section("replays")).await?;
    let rows = tx
        .query_raw(
            "SELECT session_id, seq, anonymous_id, user_id, first_timestamp, last_timestamp,
                    received_at, encoding, data
             FROM replay_chunks WHERE project = $2 AND (anonymous_id = ANY($1) OR user_id = ANY($1))
             ORDER BY session_id, seq",
            params,
        )
        .await
        .map_err(read_error)?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await.map_err(read_error)? {
        send(Piece::Item(replay_json(&row))).await?;
    }
    tx.commit().await.map_err(read_error)?;
    send(Piece::End).await
}

/// One event whole, Segment-shaped, its payload spliced in as text (never parsed).
fn event_json(row: &Row) -> String {
    let kind: String = row.get(1);
    let name_key = if kind == "track" { "event" } else { "name" };
    let mut head = serde_json::Map::new();
    let mut put = |key: &str, value: serde_json::Value| {
        if !value.is_null() {
            head.insert(key.to_string(), value);
        }
    };
    put("messageId", row.get::<_, String>(0).into());
    put("type", kind.clone().into());
    put(name_key, row.get::<_, Option<String>>(2).into());
    for (key, column) in [("anonymousId", 3), ("userId", 4), ("groupId", 5)] {
        put(key, row.get::<_, Option<String>>(column).into());
    }
    for (key, column) in [("sessionId", 6), ("sequence", 7)] {
        put(key, row.get::<_, Option<i64>>(column).into());
    }
    put("timestamp", iso(row.get(8)).into());
    put("sentAt", row.get::<_, Option<i64>>(9).map(iso).into());
    put("receivedAt", iso(row.get(10)).into());
    put("ip", row.get::<_, Option<String>>(11).into());
    put("visitorHash", row.get::<_, Option<String>>(12).into());
    with_payload(&serde_json::Value::Object(head).to_string(), row.get(13))
}

fn replay_json(row: &Row) -> String {
    let head = serde_json::json!({
        "sessionId": row.get::<_, i64>(0),
        "seq": row.get::<_, i64>(1),
        "anonymousId": row.get::<_, Option<String>>(2),
        "userId": row.get::<_, Option<String>>(3),
        "firstTimestamp": row.get::<_, i64>(4),
        "lastTimestamp": row.get::<_, i64>(5),
        "receivedAt": row.get::<_, i64>(6),
    })
    .to_string();
    let head = head.strip_suffix('}').unwrap_or(&head);
    let encoding = ChunkEncoding::from_name(row.get(7)).unwrap_or(ChunkEncoding::Gzip);
    match assent_store::replays::readable_chunk(encoding, row.get(8)) {
        Ok(text) => format!("{head},\"chunk\":{text}}}"),
        Err(reason) => format!(
            "{head},\"unreadableChunk\":{}}}",
            serde_json::Value::String(reason)
        ),
    }
}

/// A subject's consent-ledger entries, oldest first: those recorded with one of its
/// identifiers, and those of the same consent ids recorded without any (an opt-out's final
/// withdrawal carries nothing but its consent id).
pub(crate) async fn consent_history_of(
    client: &impl GenericClient,
    subject: &Subject,
) -> Result<Vec<String>, ExportError> {
    let rows = client
        .query(
            "WITH own AS (
                SELECT id, consent_id FROM consent_ledger
                WHERE project = $2 AND (anonymous_id = ANY($1) OR user_id = ANY($1)))
             SELECT id, consent_id, anonymous_id, user_id, entry, previous_hash, hash
             FROM consent_ledger
             WHERE project = $2 AND (id IN (SELECT id FROM own) OR consent_id IN (SELECT consent_id FROM own))
             ORDER BY id",
            &[&subject.ids, &subject.project],
        )
        .await
        .map_err(read_error)?;
    Ok(rows
        .iter()
        .map(|r| {
            let entry: serde_json::Value =
                serde_json::from_str(r.get(4)).unwrap_or(serde_json::Value::Null);
            let states = entry["states"]
                .as_str()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                .unwrap_or(serde_json::Value::Null);
            serde_json::json!({
                "ledgerId": r.get::<_, i64>(0),
                "consentId": r.get::<_, String>(1),
                "anonymousId": r.get::<_, Option<String>>(2),
                "userId": r.get::<_, Option<String>>(3),
                "states": states,
                "revision": entry["revision"],
                "source": entry["source"],
                "at": entry["at_ms"].as_i64().map(iso),
                "messageId": entry["message_id"],
                "previousHash": r.get::<_, String>(5),
                "hash": r.get::<_, String>(6),
            })
            .to_string()
        })
        .collect())
}

/// Writes the pieces as they come: the same document the embedded store writes.
pub(crate) fn write(
    mut pieces: mpsc::Receiver<Result<Piece, ExportError>>,
    out: &mut dyn Write,
) -> Result<(Subject, Counts), ExportError> {
    let ended = || {
        ExportError::Store(StoreError::Read(
            "the export stopped before its end".to_string(),
        ))
    };
    let (subject, generated_at) = match pieces.blocking_recv() {
        Some(Ok(Piece::Head {
            subject,
            generated_at,
        })) => (subject, generated_at),
        Some(Err(e)) => return Err(e),
        _ => return Err(ended()),
    };
    assent_store::export::write_head(out, &subject, &generated_at)?;
    let mut counts = Counts::new();
    let mut section: Option<(&'static str, u64)> = None;
    while let Some(piece) = pieces.blocking_recv() {
        match piece? {
            Piece::Head { .. } => return Err(ended()),
            Piece::Section(name) => {
                if let Some((previous, n)) = section.take() {
                    out.write_all(b"\n]")?;
                    counts.insert(previous.to_string(), n);
                }
                write!(out, ",\n\"{name}\": [\n")?;
                section = Some((name, 0));
            }
            Piece::Item(json) => {
                let (_, n) = section.as_mut().ok_or_else(ended)?;
                if *n > 0 {
                    out.write_all(b",\n")?;
                }
                out.write_all(json.as_bytes())?;
                *n += 1;
            }
            Piece::End => {
                let (last, n) = section.take().ok_or_else(ended)?;
                counts.insert(last.to_string(), n);
                out.write_all(b"\n]}\n")?;
                out.flush()?;
                return Ok((subject, counts));
            }
        }
    }
    Err(ended())
}
