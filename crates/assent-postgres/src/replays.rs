//! Session replays on PostgreSQL.
//!
//! Replay chunks go to the shared database, not to a file per collector: behind a load
//! balancer the chunks of one session land on different collectors, playback must find them
//! all, and a deletion or an export must reach them wherever they were uploaded. They do not
//! go through the ingest log: chunks are large and rare, and the browser keeps a chunk until
//! it is acknowledged, so a collector writes it straight to PostgreSQL (and answers `503`,
//! retried, while PostgreSQL is away).

use assent_store::replays::{NewChunk, ReplaySession, Stored, StoredChunk, MAX_INFLATED_SESSION};
use assent_store::{ChunkEncoding, StoreError};

use crate::text::{pg, pg_opt};
use crate::{commit_error, read_error, Shared};

/// Stores a chunk once; a retry, a chunk of a suppressed subject or one past its session's
/// cap stores nothing.
pub(crate) async fn insert(shared: &Shared, chunk: NewChunk) -> Result<Stored, StoreError> {
    let mut client = shared.client().await?;
    let tx = client.transaction().await.map_err(commit_error)?;
    let project = pg(&chunk.project).into_owned();
    let suppressed = shared
        .suppression
        .lock_and_read(&tx, &[project.as_str()])
        .await
        .map_err(commit_error)?;
    let ids: Vec<&str> = [&chunk.anonymous_id, &chunk.user_id]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if suppressed.covers_ids(&project, &ids) {
        return Ok(Stored::Suppressed);
    }
    drop(suppressed);
    // One session's chunks are counted against its cap one upload at a time.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2::bigint::text, 0))",
        &[&project, &chunk.session_id],
    )
    .await
    .map_err(commit_error)?;
    let row = tx
        .query_one(
            "SELECT coalesce(bool_or(seq = $3), false), coalesce(sum(inflated_bytes), 0)::bigint
             FROM replay_chunks WHERE project = $1 AND session_id = $2",
            &[&project, &chunk.session_id, &chunk.seq],
        )
        .await
        .map_err(commit_error)?;
    if row.get::<_, bool>(0) {
        return Ok(Stored::Duplicate);
    }
    let session_bytes: i64 = row.get(1);
    if session_bytes as u64 + chunk.inflated_bytes > MAX_INFLATED_SESSION {
        return Ok(Stored::SessionFull);
    }
    let inserted = tx
        .execute(
            "INSERT INTO replay_chunks (project, session_id, seq, anonymous_id, user_id,
                first_timestamp, last_timestamp, received_at, encoding, data, inflated_bytes)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
            &[
                &project,
                &chunk.session_id,
                &chunk.seq,
                &pg_opt(&chunk.anonymous_id).as_deref(),
                &pg_opt(&chunk.user_id).as_deref(),
                &chunk.first_timestamp,
                &chunk.last_timestamp,
                &chunk.received_at,
                &chunk.encoding.name(),
                &chunk.data,
                &(chunk.inflated_bytes as i64),
            ],
        )
        .await
        .map_err(commit_error)?;
    tx.commit().await.map_err(commit_error)?;
    Ok(if inserted == 1 {
        Stored::New
    } else {
        Stored::Duplicate
    })
}

pub(crate) async fn sessions(
    shared: &Shared,
    project: String,
    limit: usize,
) -> Result<Vec<ReplaySession>, StoreError> {
    let client = shared.client().await?;
    let rows = client
        .query(
            "SELECT session_id, max(anonymous_id), max(user_id), count(*),
                    sum(length(data))::bigint, min(first_timestamp), max(last_timestamp)
             FROM replay_chunks WHERE project = $1
             GROUP BY session_id ORDER BY min(first_timestamp) DESC LIMIT $2",
            &[&pg(&project).as_ref(), &(limit as i64)],
        )
        .await
        .map_err(read_error)?;
    Ok(rows
        .iter()
        .map(|r| ReplaySession {
            session_id: r.get(0),
            anonymous_id: r.get(1),
            user_id: r.get(2),
            chunks: r.get(3),
            bytes: r.get(4),
            first_timestamp: r.get(5),
            last_timestamp: r.get(6),
        })
        .collect())
}

pub(crate) async fn chunk_seqs(
    shared: &Shared,
    project: String,
    session_id: i64,
) -> Result<Vec<i64>, StoreError> {
    let client = shared.client().await?;
    let rows = client
        .query(
            "SELECT seq FROM replay_chunks WHERE project = $1 AND session_id = $2 ORDER BY seq",
            &[&pg(&project).as_ref(), &session_id],
        )
        .await
        .map_err(read_error)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(crate) async fn subject_ids(
    shared: &Shared,
    project: String,
    session_id: i64,
) -> Result<Vec<String>, StoreError> {
    let client = shared.client().await?;
    let rows = client
        .query(
            "SELECT anonymous_id FROM replay_chunks WHERE project = $1 AND session_id = $2
                AND anonymous_id IS NOT NULL
             UNION SELECT user_id FROM replay_chunks WHERE project = $1 AND session_id = $2
                AND user_id IS NOT NULL",
            &[&pg(&project).as_ref(), &session_id],
        )
        .await
        .map_err(read_error)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub(crate) async fn chunk(
    shared: &Shared,
    project: String,
    session_id: i64,
    seq: i64,
) -> Result<Option<StoredChunk>, StoreError> {
    let client = shared.client().await?;
    let row = client
        .query_opt(
            "SELECT seq, encoding, data FROM replay_chunks
             WHERE project = $1 AND session_id = $2 AND seq = $3",
            &[&pg(&project).as_ref(), &session_id, &seq],
        )
        .await
        .map_err(read_error)?;
    Ok(row.map(|r| StoredChunk {
        seq: r.get(0),
        // Only the collector writes this column, with `ChunkEncoding::name`.
        encoding: ChunkEncoding::from_name(r.get(1)).unwrap_or(ChunkEncoding::Gzip),
        data: r.get(2),
    }))
}
