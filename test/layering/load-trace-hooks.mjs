// The module hooks behind load-trace.mjs (they run on the loader's thread): a resolve hook that
// appends each resolved URL, a tab and the URL of the module that asked for it, to the trace file.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(file, `${resolved.url}\t${context.parentURL ?? ''}\n`);
  return resolved;
}
