/** How the network describes libp2p's failures, and finds the group handshake's verdict in them. */
import { NotInGroupError } from '../../pairing/protector.js';

/** One line for a log: the error's name (unless plain `Error`), message and code. */
export const errText = (err: unknown): string => {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const parts = [err.name && err.name !== 'Error' ? `${err.name}: ${err.message}` : err.message];
    if (typeof code === 'string' && !err.message.includes(code)) parts.push(`(${code})`);
    return parts.join(' ');
  }
  return String(err);
};

/** Failures that are not about the remote end's key (nothing listening, no route, bad name). */
export const NOT_A_KEY_PROBLEM = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EADDRNOTAVAIL|EAI_AGAIN|NoValidAddresses|dial self|DialDenied|denied/i;

/** Every error inside an error (libp2p aggregates a dial's failures). */
export function allErrors(err: unknown, depth = 0): unknown[] {
  const errors = (err as { errors?: unknown[] } | null)?.errors;
  const cause = (err as { cause?: unknown } | null)?.cause;
  const inner = [...(Array.isArray(errors) ? errors : []), ...(cause !== undefined ? [cause] : [])];
  return depth > 4 ? [err] : [err, ...inner.flatMap((e) => allErrors(e, depth + 1))];
}

/** The group handshake's own verdict, if a dial failed on it. */
export function notInGroup(err: unknown): NotInGroupError | null {
  return (allErrors(err).find((e) => e instanceof NotInGroupError) as NotInGroupError | undefined) ?? null;
}
