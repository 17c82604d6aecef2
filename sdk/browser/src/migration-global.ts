/** IIFE add-on: `Assent.migrateFrom(['segment', …])`, a plugin for `Assent.init({ plugins: [...] })`. */
import { migrateFrom } from './migration'
import { addToGlobal } from './add-on-global'

addToGlobal('migrateFrom', migrateFrom)
