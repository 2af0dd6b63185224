#!/usr/bin/env node
import { run } from './main.js';

process.exitCode = await run('roam', process.argv.slice(2));
