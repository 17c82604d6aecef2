// Prints the recorder's size (min+gzip), rrweb included, as a site loading
// /sdk/replay/assent-replay.min.js downloads it. The recorder is loaded only for visitors
// who granted `replay`, so it has no hard budget like the core's 8 KB; this guards against
// an accidental doubling (e.g. the player's Replayer pulled into the recorder).
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const LIMIT = 32 * 1024
for (const name of ['assent-replay.min.js', 'assent-replay-player.min.js']) {
  const min = readFileSync(new URL('../dist/' + name, import.meta.url))
  const gz = gzipSync(min, { level: 9 }).length
  console.log(`${name}: ${min.length} bytes minified, ${gz} bytes min+gzip`)
  if (name === 'assent-replay.min.js' && gz > LIMIT) {
    console.error(`the recorder is over ${LIMIT} bytes min+gzip`)
    process.exit(1)
  }
}
