/** Reading and rewriting the share bundles that `roam share` writes (gzipped JSON: a manifest and base64 files). */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

/** A bundle's document as the tests look at it. */
export interface BundleDoc {
  manifest: any;
  files: Record<string, string>;
}

/** The document of the bundle `file`. */
export function readBundle(file: string): BundleDoc {
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as BundleDoc;
}

/** Rewrites a bundle's document with `edit` and writes it to a new file beside it: returns that file. */
export function tamper(file: string, edit: (doc: BundleDoc) => void): string {
  const doc = readBundle(file);
  edit(doc);
  const out = `${file}.${Math.random().toString(36).slice(2)}.gz`;
  writeFileSync(out, gzipSync(JSON.stringify(doc)));
  return out;
}

/** Each file the manifest lists, with its manifest entry and its bytes as the bundle carries them. */
export function bundleFiles(doc: BundleDoc): Array<{ name: string; sha256: string; bytes: number; data: Buffer }> {
  return (doc.manifest.files as Array<{ name: string; sha256: string; bytes: number }>).map((f) => ({ ...f, data: Buffer.from(doc.files[f.name]!, 'base64') }));
}
