// The IIFE core must stay within 8 KB min+gzip (DESIGN §9). Prints the size; fails past the budget.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const BUDGET = 8192
const file = new URL('../dist/assent.min.js', import.meta.url)
const min = readFileSync(file)
const gz = gzipSync(min, { level: 9 }).length
console.log(`assent.min.js: ${min.length} bytes minified, ${gz} bytes min+gzip (budget ${BUDGET})`)
if (gz > BUDGET) {
  console.error(`over budget by ${gz - BUDGET} bytes`)
  process.exit(1)
}
