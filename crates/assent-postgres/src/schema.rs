//! The PostgreSQL schema, as an ordered list of migrations; `assent_schema.version` says how
//! far a database is. Every collector and sink runs them at start, one at a time (an advisory
//! lock), so the first to start on an empty database creates it.

use tokio_postgres::Client;

/// Any fixed number, the same in every process: the lock migrations are run under.
const MIGRATION_LOCK: i64 = 0x4153_5345_4e54_0001;

/// Each entry moves the schema one version forward. Never edit a released entry; append.
const MIGRATIONS: &[&str] = &[
    // v1. Events are partitioned by the UTC day they were received (`day`, days since 1970):
    // one table per day, made ahead of need (partitions.rs), dropped whole by retention. The
    // unique key is the dedupe key of a day (client timestamp first, so new keys land at the
    // end of the index whatever the messageId), as in the embedded store; `event_hours` lists
    // the hours of client timestamps each day holds, so a retry received on another day is
    // looked for only in the days that hold its hour. `partition_projects` says which
    // projects have events in a day, for retention.
    r#"
    CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE events (
        day          integer NOT NULL,
        project      text NOT NULL,
        message_id   text NOT NULL,
        dedupe_ts    bigint NOT NULL,
        type         text NOT NULL,
        event        text,
        anonymous_id text,
        user_id      text,
        group_id     text,
        session_id   bigint,
        sequence     bigint,
        timestamp    bigint NOT NULL,
        sent_at      bigint,
        received_at  bigint NOT NULL,
        ip           text,
        visitor_hash text,
        payload      text NOT NULL,
        UNIQUE (day, dedupe_ts, message_id, project)
    ) PARTITION BY RANGE (day);
    CREATE INDEX events_by_anonymous_id ON events (anonymous_id, project) WHERE anonymous_id IS NOT NULL;
    CREATE INDEX events_by_user ON events (user_id, project) WHERE user_id IS NOT NULL;
    CREATE TABLE event_hours (day integer NOT NULL, hour bigint NOT NULL, PRIMARY KEY (day, hour));
    CREATE INDEX event_hours_by_hour ON event_hours (hour, day);
    CREATE TABLE partition_projects (
        day integer NOT NULL, project text NOT NULL, PRIMARY KEY (day, project));

    CREATE TABLE identity_links (
        project      text NOT NULL,
        anonymous_id text NOT NULL,
        user_id      text NOT NULL,
        first_seen   bigint NOT NULL,
        last_seen    bigint NOT NULL,
        PRIMARY KEY (anonymous_id, user_id, project)
    );
    CREATE INDEX identity_links_by_user ON identity_links (user_id, project);
    CREATE INDEX identity_links_by_last_seen ON identity_links (last_seen, project);

    -- Keyed hashes of deleted subjects' identifiers; `seq` lets every process read only
    -- what was added since it last looked.
    CREATE TABLE suppressed_ids (
        seq     bigserial UNIQUE,
        id_hash text NOT NULL,
        project text NOT NULL,
        since   bigint NOT NULL,
        PRIMARY KEY (id_hash, project)
    );

    -- One hash chain per project: `ledger_chains` holds where it starts (the last hash
    -- retention removed) and its tip; the tip's row lock serialises appends of a project
    -- across every process.
    CREATE TABLE ledger_chains (
        project text PRIMARY KEY,
        anchor  text NOT NULL,
        tip     text NOT NULL
    );
    CREATE TABLE consent_ledger (
        id            bigserial PRIMARY KEY,
        project       text NOT NULL,
        consent_id    text NOT NULL,
        message_id    text NOT NULL,
        anonymous_id  text,
        user_id       text,
        entry         text NOT NULL,
        previous_hash text NOT NULL,
        hash          text NOT NULL
    );
    CREATE UNIQUE INDEX consent_ledger_by_message ON consent_ledger (project, message_id);
    CREATE INDEX consent_ledger_by_project ON consent_ledger (project, id);
    CREATE INDEX consent_ledger_by_consent_id ON consent_ledger (consent_id);
    CREATE INDEX consent_ledger_by_anonymous_id ON consent_ledger (anonymous_id) WHERE anonymous_id IS NOT NULL;
    CREATE INDEX consent_ledger_by_user ON consent_ledger (user_id) WHERE user_id IS NOT NULL;
    CREATE FUNCTION consent_ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.id <> OLD.id OR NEW.project <> OLD.project OR NEW.consent_id <> OLD.consent_id
           OR NEW.message_id <> OLD.message_id OR NEW.entry <> OLD.entry
           OR NEW.previous_hash <> OLD.previous_hash OR NEW.hash <> OLD.hash THEN
            RAISE EXCEPTION 'the consent ledger is append-only';
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER consent_ledger_is_append_only BEFORE UPDATE ON consent_ledger
        FOR EACH ROW EXECUTE FUNCTION consent_ledger_is_append_only();

    CREATE TABLE deletions_running (
        id          text PRIMARY KEY,
        project     text NOT NULL,
        subject_ids text NOT NULL,
        actor       text NOT NULL,
        started_at  bigint NOT NULL,
        counts      text NOT NULL,
        last_error  text
    );
    CREATE TABLE deletion_jobs (
        id           text PRIMARY KEY,
        project      text NOT NULL,
        subject_hash text NOT NULL,
        started_at   bigint NOT NULL,
        finished_at  bigint NOT NULL,
        counts       text NOT NULL
    );
    CREATE TABLE audit_log (
        id           bigserial PRIMARY KEY,
        at           bigint NOT NULL,
        actor        text NOT NULL,
        action       text NOT NULL,
        project      text NOT NULL,
        subject_hash text,
        counts       text NOT NULL
    );
    CREATE INDEX audit_log_by_project ON audit_log (project, id);

    CREATE TABLE replay_chunks (
        id              bigserial PRIMARY KEY,
        project         text NOT NULL,
        session_id      bigint NOT NULL,
        seq             bigint NOT NULL,
        anonymous_id    text,
        user_id         text,
        first_timestamp bigint NOT NULL,
        last_timestamp  bigint NOT NULL,
        received_at     bigint NOT NULL,
        encoding        text NOT NULL,
        data            bytea NOT NULL,
        inflated_bytes  bigint NOT NULL,
        UNIQUE (project, session_id, seq)
    );
    CREATE INDEX replay_chunks_anonymous ON replay_chunks (project, anonymous_id);
    CREATE INDEX replay_chunks_user ON replay_chunks (project, user_id);
    CREATE INDEX replay_chunks_received ON replay_chunks (project, received_at);

    -- Fingerprints (keyed hashes of a constant) of the keys every process must share: a
    -- process started with other keys is refused before it writes anything.
    CREATE TABLE key_fingerprints (
        purpose     text NOT NULL,
        key_id      text NOT NULL,
        fingerprint text NOT NULL,
        PRIMARY KEY (purpose, key_id)
    );
    "#,
    // v2. The dashboard's count of events of deleted subjects refused at ingest, per day
    // received and project (numbers only; dropped with the day's partition).
    r#"
    CREATE TABLE suppressed_counts (
        day     integer NOT NULL,
        project text NOT NULL,
        events  bigint NOT NULL,
        PRIMARY KEY (day, project)
    );
    "#,
    // v3. The dashboard's digests of days no longer received into, kept so that a collector
    // reads a day's digest rather than its rows. `day_versions` counts the changes to a
    // project's rows of a day after it closed (deletions, late rows); a digest is good for the
    // version it was built at, and a deletion removes it in its own transaction.
    r#"
    CREATE TABLE day_versions (
        day     integer NOT NULL,
        project text NOT NULL,
        version bigint NOT NULL,
        PRIMARY KEY (day, project)
    );
    CREATE TABLE stats_digests (
        day     integer NOT NULL,
        project text NOT NULL,
        format  bigint NOT NULL,
        version bigint NOT NULL,
        data    bytea NOT NULL,
        PRIMARY KEY (day, project)
    );
    "#,
];

/// Brings the database's schema up to date; returns the version it had.
pub(crate) async fn migrate(client: &mut Client) -> Result<i64, tokio_postgres::Error> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let outcome = migrate_locked(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await;
    let version = outcome?;
    unlocked?;
    Ok(version)
}

async fn migrate_locked(client: &mut Client) -> Result<i64, tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS assent_schema (version bigint NOT NULL);
             INSERT INTO assent_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM assent_schema);",
        )
        .await?;
    let version: i64 = client
        .query_one("SELECT version FROM assent_schema", &[])
        .await?
        .get(0);
    for (i, sql) in (0i64..).zip(MIGRATIONS).skip(version.max(0) as usize) {
        let tx = client.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute("UPDATE assent_schema SET version = $1", &[&(i + 1)])
            .await?;
        tx.commit().await?;
    }
    Ok(version)
}
