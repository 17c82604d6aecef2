/** IIFE add-on: `Assent.serverId()`, a plugin for `Assent.init({ plugins: [...] })`. */
import { addToGlobal } from './add-on-global'
import { serverId } from './server-id'

addToGlobal('serverId', serverId)
