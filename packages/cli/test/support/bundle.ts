/** Reading and rewriting the share bundles that `roam share` writes (gzipped JSON: a manifest and base64 files). */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { sha256 } from '../../src/share/bundle.js';
import { roam } from './roam.js';

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

/** A copy of the bundle `file` with the text of its file `name` rewritten by `edit` (the manifest left as it was). */
export function withEdited(file: string, name: string, edit: (text: string) => string): string {
  return tamper(file, (d) => {
    d.files[name] = Buffer.from(edit(Buffer.from(d.files[name]!, 'base64').toString('utf8'))).toString('base64');
  });
}

/** A copy of the bundle `file` with the file `name` added and listed in its manifest, size and hash right. */
export function withAdded(file: string, name: string, content: string): string {
  return tamper(file, (d) => {
    const bytes = Buffer.from(content);
    d.files[name] = bytes.toString('base64');
    d.manifest.files.push({ name, bytes: bytes.length, sha256: sha256(bytes) });
  });
}

/** What `roam import --json` reports. */
export interface ImportReport {
  id: string;
  renamed: boolean;
  transcript: string;
  command: { argv: string[] };
}

/** `roam import <file> --json`, which must succeed: its report. */
export async function imported(file: string): Promise<ImportReport> {
  const r = await roam('import', file, '--json');
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out) as ImportReport;
}

/** `roam import <file> --json` of a bundle imported here before as `id`: it finds that one and writes nothing. */
export async function importedAgain(file: string, id: string): Promise<void> {
  const again = JSON.parse((await roam('import', file, '--json')).out) as { id: string; already: boolean; files: string[] };
  expect(again).toMatchObject({ already: true, id, files: [] });
}
