// The IIFE core must stay within 8 KB min+gzip (the project's size budget). Prints the sizes of the core
// and of its add-ons; fails when the core is past the budget.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const BUDGET = 8192
const size = (name) => {
  const min = readFileSync(new URL('../dist/' + name, import.meta.url))
  return { min: min.length, gz: gzipSync(min, { level: 9 }).length }
}
const core = size('assent.min.js')
console.log(`assent.min.js: ${core.min} bytes minified, ${core.gz} bytes min+gzip (budget ${BUDGET})`)
for (const addOn of ['assent-cross-domain.min.js', 'assent-migration.min.js', 'assent-server-id.min.js', 'assent-consent-adapters.min.js']) {
  const s = size(addOn)
  console.log(`  add-on ${addOn}: ${s.min} bytes minified, ${s.gz} bytes min+gzip`)
}
if (core.gz > BUDGET) {
  console.error(`over budget by ${core.gz - BUDGET} bytes`)
  process.exit(1)
}
