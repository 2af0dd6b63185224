import type { CallItem, Item, ResultItem } from './ir.js';

/**
 * Each call's output: the first later result with the call's id (calls with the same id are
 * answered in order). Results that answer no call are left out of the map.
 */
export function pairResults(items: readonly Item[]): Map<CallItem, ResultItem> {
  const open = new Map<string, CallItem[]>();
  const pairs = new Map<CallItem, ResultItem>();
  for (const it of items) {
    if (it.type === 'call') {
      if (!it.id) continue;
      const q = open.get(it.id);
      if (q) q.push(it);
      else open.set(it.id, [it]);
    } else if (it.type === 'result') {
      const call = open.get(it.id)?.shift();
      if (call) pairs.set(call, it);
    }
  }
  return pairs;
}
