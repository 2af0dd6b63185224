#!/usr/bin/env node
import { endQuietlyOnClosedPipe, run } from './main.js';

endQuietlyOnClosedPipe();
process.exitCode = await run('roam', process.argv.slice(2));
