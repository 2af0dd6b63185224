#!/usr/bin/env -S node --max-semi-space-size=1
// The V8 flag above (ROAMD_NODE_FLAGS in commands/service.ts, which the service units repeat):
// V8's default young generation (16 MB semi-spaces) absorbs the garbage of hashing and frame
// handling and keeps the pages, about 50 MB of roamd's RSS; with 1 MB roamd indexing 1,000 files
// idles at 84 MB instead of 141 MB (bench/ANALYSIS.md, W5). A flag set at run time
// (v8.setFlagsFromString) does not resize a heap that already exists (measured on Node 20), so it
// has to be on node's command line: `env -S` splits it off (coreutils >= 8.30, macOS; npm's
// cmd-shim on Windows reads the same line).
// libp2p needs Promise.withResolvers, which Node 20 lacks: load the polyfill first.
import './polyfill.js';
import { run } from './main.js';

process.exitCode = await run('roamd', process.argv.slice(2));
