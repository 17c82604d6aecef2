/** IIFE add-on: `Assent.crossDomain({ domains })`, a plugin for `Assent.init({ plugins: [...] })`. */
import { crossDomain } from './cross-domain'
import { addToGlobal } from './add-on-global'

addToGlobal('crossDomain', crossDomain)
