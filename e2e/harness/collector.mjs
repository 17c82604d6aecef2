// Starts the real `assent` binary on a random port with its own data dir, and reads its SQLite file.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const repoRoot = resolve(new URL('../..', import.meta.url).pathname)

export async function startCollector() {
  const bin = resolve(repoRoot, process.env.ASSENT_BIN || 'target/debug/assent')
  if (!existsSync(bin)) throw new Error(`collector binary not found at ${bin}: build it (cargo build -p assent) or set ASSENT_BIN`)
  const dir = mkdtempSync(join(tmpdir(), 'assent-e2e-'))
  const config = join(dir, 'assent.toml')
  writeFileSync(
    config,
    `listen = "127.0.0.1:0"
data_dir = "${join(dir, 'data')}"
[[projects]]
id = "demo"
write_keys = ["pk_demo", "pk_other"]
admin_tokens = ["sk_demo"]
viewer_tokens = ["vk_demo"]
allowed_origins = ["*"]
# Sites that migrate keep their own trackers and their own consent banner (CMP), which loads
# them only after consent; those trackers send no Assent consent snapshot, so this project
# runs in opt-out mode (docs/compatibility.md, "Consent").
[[projects]]
id = "peers"
write_keys = ["pk_peer", "pk_peer_other"]
mode = "opt-out"
allowed_origins = ["*"]
snowplow_app_ids = ["shop-web"]
`,
  )
  // The working directory is the repo root: the collector serves sdk/browser/dist and demo/ from there.
  const child = spawn(bin, ['serve', '--config', config], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const port = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error('collector did not start in 20 s:\n' + log)), 20_000)
    const onData = (chunk) => {
      log += chunk
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log)
      if (m) {
        clearTimeout(timer)
        ok(Number(m[1]))
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', (c) => (log += c))
    child.on('exit', (code) => fail(new Error(`collector exited with ${code}:\n${log}`)))
  })
  const db = join(dir, 'data', 'events.db')
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir: join(dir, 'data'),
    config,
    /**
     * Rows from the real store, read with the sqlite3 CLI (WAL-aware). Events live in daily
     * partition files: each is attached, and the views `events` and `events_json` cover them all.
     */
    query(sql) {
      const out = execFileSync('/usr/bin/sqlite3', ['-json', db, partitionViews(join(dir, 'data')) + sql], { encoding: 'utf8' }).trim()
      return out ? JSON.parse(out) : []
    },
    /** Stored events with their payload parsed. */
    events(where = '1=1') {
      // `payload` is the event whole (the events_json view): identifiers and times live in
      // their own columns, and the view joins them back.
      const sql = `select *, (select j.event from events_json j where j.id = events.id) as whole from events where ${where} order by received_at, sequence`
      return this.query(sql).map(({ whole, ...r }) => ({ ...r, payload: JSON.parse(whole) }))
    },
    /** Wait until `check(events)` holds (the collector answers only after commit, but the browser may still be sending). */
    async waitFor(check, where, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs
      for (;;) {
        const rows = this.events(where)
        if (check(rows)) return rows
        if (Date.now() > end) throw new Error(`timed out waiting for stored events; have ${rows.length}: ` + JSON.stringify(rows.map((r) => [r.type, r.event])))
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
    },
  }
}

const EVENT_COLUMNS = 'project, message_id, dedupe_ts, type, event, anonymous_id, user_id, group_id, session_id, sequence, timestamp, sent_at, received_at, ip, visitor_hash, payload'

/** SQL attaching every partition of a data directory, with views `events` and `events_json` over them. */
function partitionViews(dataDir) {
  const folder = join(dataDir, 'events')
  const files = existsSync(folder) ? readdirSync(folder).filter((f) => /^\d{4}-\d{2}-\d{2}\.db$/.test(f)).sort().slice(-9) : []
  if (files.length === 0) {
    const nulls = ['id', ...EVENT_COLUMNS.split(', ')].map((c) => `NULL AS ${c}`).join(', ')
    return `CREATE TEMP VIEW events AS SELECT ${nulls} WHERE 0; CREATE TEMP VIEW events_json AS SELECT NULL AS id, NULL AS project, NULL AS event WHERE 0; `
  }
  const attach = files.map((f, i) => `ATTACH '${join(folder, f)}' AS all${i};`).join(' ')
  const id = (i) => `id + ${i + 1} * 1099511627776 AS id`
  const events = files.map((_, i) => `SELECT ${id(i)}, ${EVENT_COLUMNS} FROM all${i}.events`).join(' UNION ALL ')
  const whole = files.map((_, i) => `SELECT ${id(i)}, project, event FROM all${i}.events_json`).join(' UNION ALL ')
  return `${attach} CREATE TEMP VIEW events AS ${events}; CREATE TEMP VIEW events_json AS ${whole}; `
}
