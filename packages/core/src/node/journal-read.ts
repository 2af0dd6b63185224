/**
 * Reading a journal in chunks: each complete line parsed as it arrives and its records handed on
 * one by one, so neither the file's text nor an array of all its records is ever held whole (W4,
 * W5). The format is unchanged: one JSON array of records per line.
 */
import type { FileHandle } from 'node:fs/promises';
import { ErrorCodes, RoamError } from '../errors.js';

/** Bytes read from the journal at a time. */
const READ_CHUNK = 1024 * 1024;

/**
 * Parses the journal's lines in order, calling `onRecord` for each record. Returns the bytes of
 * complete lines read: a torn last line (no newline) is not parsed, and the caller truncates it.
 */
export async function readJournal(fh: FileHandle, file: string, onRecord: (r: unknown) => void): Promise<number> {
  const buf = Buffer.allocUnsafe(READ_CHUNK);
  let good = 0; // bytes of complete, parsed lines
  let pending: Buffer[] = []; // the start of a line not yet complete (copies)
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      if (nl === -1 || nl >= bytesRead) break;
      let line: Buffer;
      if (pending.length) {
        pending.push(buf.subarray(start, nl));
        line = Buffer.concat(pending);
        pending = [];
      } else {
        line = buf.subarray(start, nl);
      }
      parseLine(line, good, file, onRecord);
      good += line.length + 1;
      start = nl + 1;
    }
    if (start < bytesRead) pending.push(Buffer.from(buf.subarray(start, bytesRead)));
  }
  return good;
}

function parseLine(line: Buffer, at: number, file: string, onRecord: (r: unknown) => void): void {
  let batch: unknown;
  try {
    batch = JSON.parse(line.toString('utf8'));
  } catch (cause) {
    throw new RoamError(ErrorCodes.STORE_CORRUPT, `journal ${file}: unreadable record at byte ${at}`, { file }, { cause });
  }
  if (!Array.isArray(batch)) throw new RoamError(ErrorCodes.STORE_CORRUPT, `journal ${file}: bad record at byte ${at}`, { file });
  for (const r of batch as unknown[]) onRecord(r);
}
