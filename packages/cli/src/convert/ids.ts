/**
 * Ids of converted sessions: UUIDs derived from what was converted (the source's tool, id and
 * bytes, the target tool, the directory), so that converting the same session again finds the
 * session the first conversion made instead of writing another copy. Version 8 ("custom") UUIDs,
 * as roam's fork ids (forkUuid in the core): both CLIs resume any UUID-shaped id.
 */
import { createHash } from 'node:crypto';
import type { ToolName } from '../sessions/types.js';

/** A UUID (version 8, RFC 9562 variant) from the SHA-256 of `text`. */
export function derivedUuid(text: string): string {
  const h = createHash('sha256').update(text).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface IdSource {
  readonly tool: ToolName;
  readonly id: string;
  /** SHA-256 (hex) of the source bytes converted. */
  readonly sha256: string;
}

/**
 * The id of the `attempt`-th candidate for a conversion (0 first; the next when that id is taken by
 * a session with other content, e.g. the first conversion, since resumed and grown).
 */
export function convertedId(source: IdSource, target: ToolName, dir: string, attempt: number): string {
  return derivedUuid(`roam convert v1\n${source.tool}\n${source.id}\n${source.sha256}\n${target}\n${dir}\n${attempt}`);
}
