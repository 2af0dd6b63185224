/**
 * Claude Code's project key: the project's real path with every character outside [A-Za-z0-9]
 * replaced by `-` (per UTF-16 code unit, runs not collapsed). Keys longer than 200 characters are cut
 * to 200 and suffixed with `-` and a hash, so two keys are compared on their first 200 characters
 * when either is long (docs/CLAUDE-CODE.md).
 */
export const KEY_MAX = 200;

export function claudeProjectKey(path: string): string {
  const key = path.replace(/[^a-zA-Z0-9]/g, '-');
  if (key.length <= KEY_MAX) return key;
  return `${key.slice(0, KEY_MAX)}-${longKeySuffix(path)}`;
}

/** The suffix of a long key: Java's String.hashCode of the path, absolute value, base 36. */
export function longKeySuffix(path: string): string {
  let h = 0;
  for (let i = 0; i < path.length; i++) h = (Math.imul(h, 31) + path.charCodeAt(i)) | 0;
  return Math.abs(h).toString(36);
}

/** Whether a key directory's name is the key of `path` (on the first 200 characters for long keys). */
export function claudeKeyMatches(dirName: string, path: string): boolean {
  const key = claudeProjectKey(path);
  if (key.length <= KEY_MAX) return dirName === key;
  return dirName.length > KEY_MAX && dirName.slice(0, KEY_MAX) === key.slice(0, KEY_MAX);
}
