// `node --import ./load-trace.mjs …`: records every module URL the program resolves, one a line,
// in the file named by ROAM_LOAD_TRACE (the layering test reads it to see what a verb loaded).
import { register } from 'node:module';

const file = process.env.ROAM_LOAD_TRACE;
if (!file) throw new Error('load-trace.mjs: set ROAM_LOAD_TRACE to the file to write');
register(new URL('./load-trace-hooks.mjs', import.meta.url), { data: { file } });
