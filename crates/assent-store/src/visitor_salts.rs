//! The daily salts behind cookieless visitor hashes: made at random, kept 48 hours, destroyed.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use crate::StoreError;

/// Salts by day, shared by all projects. The salt of a day is created on its first event and
/// persisted (so a restart the same day counts the same visitors once); when a new day's salt
/// is made, every salt older than yesterday is deleted from the store and from memory.
pub struct VisitorSalts {
    conn: Mutex<Connection>,
    current: Mutex<Option<(i64, [u8; 16])>>,
}

impl VisitorSalts {
    pub(crate) fn open(path: &Path) -> rusqlite::Result<VisitorSalts> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // Deleted salts are overwritten with zeros, not merely unlinked.
        conn.pragma_update(None, "secure_delete", "ON")?;
        Ok(VisitorSalts {
            conn: Mutex::new(conn),
            current: Mutex::new(None),
        })
    }

    /// The salt of `day` (days since 1970, UTC), creating it if needed.
    pub fn for_day(&self, day: i64) -> Result<[u8; 16], StoreError> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((d, salt)) = *current {
            if d == day {
                return Ok(salt);
            }
        }
        let salt = self
            .rotate(day)
            .map_err(|e| StoreError::Commit(format!("visitor salt: {e}")))?;
        // The old salt leaves memory here: the only copy was in `current`.
        *current = Some((day, salt));
        Ok(salt)
    }

    fn rotate(&self, day: i64) -> rusqlite::Result<[u8; 16]> {
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let mut fresh = [0u8; 16];
        getrandom::fill(&mut fresh).expect("the OS provides randomness");
        conn.execute(
            "INSERT OR IGNORE INTO visitor_salts (day, salt) VALUES (?1, ?2)",
            params![day, fresh.as_slice()],
        )?;
        // Yesterday's salt stays until today ends (48 h of life in all); older ones go.
        conn.execute("DELETE FROM visitor_salts WHERE day < ?1", [day - 1])?;
        let stored: Option<Vec<u8>> = conn
            .query_row(
                "SELECT salt FROM visitor_salts WHERE day = ?1",
                [day],
                |r| r.get(0),
            )
            .optional()?;
        let stored = stored.unwrap_or_else(|| fresh.to_vec());
        Ok(stored.try_into().unwrap_or(fresh))
    }
}
