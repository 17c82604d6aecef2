// Unit tests of a package: compile its test/*.test.ts with esbuild, then run them with node's own test runner.
import { build } from 'esbuild'
import { spawnSync } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { dirname } from 'node:path'

// The package whose tests run: the one npm runs this for (sdk/replay uses this script too),
// else this script's own.
const root = process.env.npm_package_json ? dirname(process.env.npm_package_json) + '/' : new URL('..', import.meta.url).pathname
const out = root + '.unit-build'
rmSync(out, { recursive: true, force: true })
const tests = readdirSync(root + 'test').filter((f) => f.endsWith('.test.ts'))
await build({
  entryPoints: tests.map((f) => 'test/' + f),
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  outdir: out,
  outExtension: { '.js': '.mjs' },
  define: { __VERSION__: '"test"' },
  // Tests that drive a browser import playwright-core and esbuild from node_modules as they are.
  packages: 'external',
  logLevel: 'warning',
})
const files = readdirSync(out).map((f) => out + '/' + f)
const run = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' })
process.exit(run.status ?? 1)
