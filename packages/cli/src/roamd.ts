#!/usr/bin/env node
// libp2p needs Promise.withResolvers, which Node 20 lacks: load the polyfill first.
import './polyfill.js';
import { run } from './main.js';

process.exitCode = await run('roamd', process.argv.slice(2));
