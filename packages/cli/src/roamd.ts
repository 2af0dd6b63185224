#!/usr/bin/env -S node --max-semi-space-size=4
// The V8 flag above (ROAMD_NODE_FLAGS in commands/helpers/service-plan.ts, which the service units repeat):
// V8's default young generation (16 MB semi-spaces) absorbs the garbage of hashing and frame
// handling and keeps the pages as RSS (bench W2 at 256 MB, peak RSS of the sender and receiver:
// 165-182 and 177-197 MB by default, 142-144 and 142-159 MB with 4 MB). 1 MB saved no more and
// doubled the garbage collector's time at a restart (W4). A flag set at run time
// (v8.setFlagsFromString) does not resize a heap that already exists (measured on Node 20), so it
// has to be on node's command line: `env -S` splits it off (coreutils >= 8.30, macOS; npm's
// cmd-shim on Windows reads the same line).
// libp2p needs Promise.withResolvers, which Node 20 lacks: load the polyfill first.
import './polyfill.js';
import { run } from './main.js';

process.exitCode = await run('roamd', process.argv.slice(2));
