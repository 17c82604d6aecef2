// The banner must stay within 6 KB min+gzip with its built-in languages (English, French), and
// each add-on language pack within 1 KB. Prints every size; fails past a budget.
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'

const BANNER_BUDGET = 6144
const PACK_BUDGET = 1024
const files = [['assent-banner.min.js', BANNER_BUDGET], ...['de', 'es', 'it', 'nl'].map((l) => [`assent-banner-${l}.min.js`, PACK_BUDGET])]
let over = 0
for (const [name, budget] of files) {
  const min = readFileSync(new URL('../dist/' + name, import.meta.url))
  const gz = gzipSync(min, { level: 9 }).length
  console.log(`${name}: ${min.length} bytes minified, ${gz} bytes min+gzip (budget ${budget})`)
  if (gz > budget) {
    console.error(`${name} is over budget by ${gz - budget} bytes`)
    over++
  }
}
if (over) process.exit(1)
