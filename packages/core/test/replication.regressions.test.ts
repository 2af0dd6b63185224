/**
 * Counterexamples the convergence property once found, each the shrunk case behind a fixed bug
 * (see the commits that fixed them). They run on every CI run, in both conflict modes.
 */
import { describe, it } from 'vitest';
import type { Op } from './support/converge.js';
import { runScenario } from './support/converge.js';

const cases: Array<{ devices: number; ops: Op[]; finalPicks: number[] }> = [
  {"devices":5,"ops":[{"op":"append","dev":3,"file":0,"lines":[""]},{"op":"append","dev":3,"file":0,"lines":[""]},{"op":"deliver","count":2,"picks":[33,22,0,0,0,0,0,0]},{"op":"toggle","a":3,"b":3},{"op":"append","dev":0,"file":0,"lines":["a"]},{"op":"append","dev":2,"file":0,"lines":[""]}],"finalPicks":[34,9,18]},
  {"devices":4,"ops":[{"op":"append","dev":2,"file":0,"lines":[""]},{"op":"deliver","count":1,"picks":[9,21,29,3,39,20,0,0]},{"op":"deliver","count":5,"picks":[8,0,0,3,1,31,8,0]},{"op":"deliver","count":1,"picks":[47,32,0,0,34,42,0,0]},{"op":"append","dev":0,"file":2,"lines":[""]},{"op":"complete","dev":0,"file":0},{"op":"append","dev":1,"file":2,"lines":[""]},{"op":"deliver","count":2,"picks":[8,32,10,0,0,0,0,0]},{"op":"deliver","count":1,"picks":[14,23,0,0,0,0,0,0]},{"op":"append","dev":2,"file":2,"lines":["a"]}],"finalPicks":[17,31,31]},
  {"devices":3,"ops":[{"op":"append","dev":2,"file":0,"lines":[""]},{"op":"deliver","count":1,"picks":[0,22,24,0,0,0,0,0]},{"op":"append","dev":1,"file":1,"lines":[""]},{"op":"deliver","count":5,"picks":[20,33,14,39,0,0,0,0]},{"op":"append","dev":2,"file":1,"lines":["",""]},{"op":"deliver","count":7,"picks":[1,6,5,21,17,0,4,0]},{"op":"deliver","count":1,"picks":[5,0,0,0,0,0,0,0]},{"op":"append","dev":0,"file":0,"lines":[""]},{"op":"deliver","count":1,"picks":[0,10,0,0,0,0,0,0]},{"op":"append","dev":0,"file":1,"lines":[""]},{"op":"append","dev":0,"file":0,"lines":[""]}],"finalPicks":[24,11,30]},
  {"devices":3,"ops":[{"op":"append","dev":0,"file":1,"lines":[""]},{"op":"toggle","a":1,"b":0},{"op":"deliver","count":3,"picks":[0,1,0,0,0,11,0,0]},{"op":"deliver","count":3,"picks":[31,0,0,0,0,0,0,0]},{"op":"append","dev":1,"file":1,"lines":[""]},{"op":"append","dev":0,"file":0,"lines":[""]},{"op":"append","dev":1,"file":0,"lines":[""]},{"op":"deliver","count":4,"picks":[1,33,0,0,0,0,0,0]},{"op":"append","dev":2,"file":1,"lines":[""]},{"op":"append","dev":0,"file":0,"lines":[""]}],"finalPicks":[0,15,19]},
  {"devices":3,"ops":[{"op":"deliver","count":1,"picks":[0,7,39,0,0,0,0,0]},{"op":"append","dev":0,"file":1,"lines":[""]},{"op":"append","dev":2,"file":0,"lines":[""]},{"op":"partial","dev":1,"file":0,"text":"aaa"},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]}],"finalPicks":[2,46,3]},
  {"devices":2,"ops":[{"op":"partial","dev":1,"file":0,"text":""},{"op":"append","dev":0,"file":0,"lines":[""]},{"op":"complete","dev":0,"file":0},{"op":"deliver","count":2,"picks":[0,0,0,0,0,0,0,0]},{"op":"deliver","count":3,"picks":[0,0,0,0,0,0,0,0]},{"op":"complete","dev":0,"file":0}],"finalPicks":[0]},
  {"devices":2,"ops":[{"op":"append","dev":0,"file":2,"lines":[""]},{"op":"deliver","count":5,"picks":[0,0,0,0,0,0,0,0]},{"op":"deliver","count":3,"picks":[0,0,0,0,0,0,0,0]},{"op":"partial","dev":1,"file":2,"text":""},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]},{"op":"append","dev":0,"file":2,"lines":[""]},{"op":"append","dev":0,"file":0,"lines":[""]}],"finalPicks":[0]},
  {"devices":3,"ops":[{"op":"toggle","a":1,"b":0},{"op":"append","dev":0,"file":2,"lines":[""]},{"op":"deliver","count":2,"picks":[0,0,0,0,0,0,0,0]},{"op":"deliver","count":6,"picks":[0,0,0,0,0,0,0,0]},{"op":"append","dev":0,"file":2,"lines":[""]},{"op":"append","dev":0,"file":0,"lines":[""]},{"op":"append","dev":1,"file":2,"lines":[""]}],"finalPicks":[1]},
  {"devices":3,"ops":[{"op":"partial","dev":0,"file":0,"text":""},{"op":"deliver","count":5,"picks":[0,0,0,0,0,0,0,0]},{"op":"append","dev":1,"file":0,"lines":[""]},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]},{"op":"toggle","a":1,"b":1},{"op":"append","dev":0,"file":1,"lines":[""]},{"op":"append","dev":0,"file":1,"lines":[""]}],"finalPicks":[3]},
  {"devices":3,"ops":[{"op":"append","dev":2,"file":1,"lines":[""]},{"op":"append","dev":0,"file":0,"lines":[""]},{"op":"append","dev":0,"file":1,"lines":[""]},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]},{"op":"append","dev":1,"file":1,"lines":[""]},{"op":"deliver","count":1,"picks":[8,3,0,46,0,3,0,0]}],"finalPicks":[13,0,5,0]},
  // Three devices write one whole file at once: two losers' conflict copies share a name (same
  // winner, same second) with other content.
  {"devices":5,"ops":[{"op":"write","dev":0,"text":""},{"op":"write","dev":1,"text":""},{"op":"deliver","count":1,"picks":[2,21,28,1,0,0,0,0]},{"op":"append","dev":0,"file":0,"lines":[""]},{"op":"deliver","count":1,"picks":[2,0,0,0,0,0,0,0]},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]},{"op":"write","dev":2,"text":""}],"finalPicks":[0]},
  // A divergence within one epoch (two devices appended to an empty log of one version): a loser
  // pulled the winner whole while the winner's device lost to a third and replaced its log
  // under the same version; the pull waited for lines that would never come.
  {"devices":3,"ops":[{"op":"partial","dev":1,"file":2,"text":""},{"op":"deliver","count":1,"picks":[1,0,0,0,0,0,0,0]},{"op":"deliver","count":1,"picks":[0,43,3,3,0,0,0,0]},{"op":"deliver","count":1,"picks":[1,0,0,0,0,0,0,0]},{"op":"partial","dev":1,"file":0,"text":""},{"op":"append","dev":2,"file":2,"lines":[""]},{"op":"deliver","count":5,"picks":[1,0,18,7,21,13,0,0]},{"op":"append","dev":0,"file":2,"lines":[""]}],"finalPicks":[20,0,7]},
  {"devices":5,"ops":[{"op":"deliver","count":2,"picks":[6,0,6,1,30,17,18,0]},{"op":"deliver","count":6,"picks":[11,47,45,11,18,49,0,0]},{"op":"partial","dev":4,"file":1,"text":""},{"op":"deliver","count":4,"picks":[2,48,17,7,18,2,0,0]},{"op":"deliver","count":1,"picks":[18,0,0,0,0,0,0,0]},{"op":"append","dev":1,"file":1,"lines":[""]},{"op":"append","dev":0,"file":1,"lines":[""]},{"op":"deliver","count":1,"picks":[0,0,40,0,0,0,0,0]},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]},{"op":"deliver","count":1,"picks":[19,7,34,0,0,0,0,0]},{"op":"deliver","count":1,"picks":[21,0,0,0,0,0,0,0]},{"op":"toggle","a":1,"b":0}],"finalPicks":[7,20,49,25,16]},
  // A device asked one peer whether it holds a prefix of our log (or lost a conflict to ours),
  // heard yes, and never went on to the next peer, which held a longer log of the same epoch or
  // a conflict ours loses: three devices kept three contents.
  {"devices":3,"ops":[{"op":"partial","dev":0,"file":0,"text":""},{"op":"partial","dev":1,"file":0,"text":""},{"op":"toggle","a":2,"b":0},{"op":"append","dev":0,"file":0,"lines":[""]},{"op":"toggle","a":1,"b":0},{"op":"toggle","a":0,"b":2},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]},{"op":"deliver","count":7,"picks":[0,0,0,0,0,0,0,0]},{"op":"deliver","count":8,"picks":[0,0,0,0,0,0,0,0]},{"op":"append","dev":2,"file":0,"lines":[""]},{"op":"deliver","count":1,"picks":[10,0,0,0,0,0,0,0]}],"finalPicks":[15,0,44]},
  // The same conflict copy made on two devices (same content, two authors) was judged against a
  // third copy's content by author: it lost on one device and won on the other, and the copies
  // cascaded a level per round until the name was too long.
  {"devices":5,"ops":[{"op":"deliver","count":1,"picks":[4,0,0,0,0,0,0,0]},{"op":"write","dev":2,"text":""},{"op":"deliver","count":5,"picks":[23,26,45,14,8,0,0,0]},{"op":"deliver","count":2,"picks":[2,7,0,0,0,0,0,0]},{"op":"toggle","a":2,"b":0},{"op":"toggle","a":1,"b":0},{"op":"deliver","count":1,"picks":[43,0,0,0,0,0,0,0]},{"op":"write","dev":0,"text":""},{"op":"partial","dev":2,"file":1,"text":""},{"op":"toggle","a":0,"b":2},{"op":"deliver","count":6,"picks":[37,9,22,0,11,1,0,0]},{"op":"partial","dev":0,"file":2,"text":""},{"op":"append","dev":1,"file":0,"lines":[""]},{"op":"write","dev":4,"text":""},{"op":"append","dev":3,"file":0,"lines":["a"]},{"op":"deliver","count":1,"picks":[35,6,0,24,1,11,17,0]}],"finalPicks":[47,44,21,18,42]},
  // The same losing log copied aside on two devices was a record of the copying device on each,
  // so against a third content under that conflict name it won on one and lost on the other.
  {"devices":4,"ops":[{"op":"append","dev":3,"file":0,"lines":["a😀a😀aaa","aaaaa😀",""]},{"op":"deliver","count":3,"picks":[32,0,47,0,0,0,0,0]},{"op":"toggle","a":3,"b":2},{"op":"append","dev":2,"file":1,"lines":[""]},{"op":"deliver","count":2,"picks":[25,1,0,0,0,0,0,0]},{"op":"partial","dev":0,"file":1,"text":""},{"op":"deliver","count":6,"picks":[2,15,19,1,40,1,0,0]},{"op":"deliver","count":3,"picks":[17,11,22,0,0,0,0,0]},{"op":"deliver","count":4,"picks":[9,29,43,0,0,0,0,0]},{"op":"deliver","count":5,"picks":[0,24,21,36,5,0,0,0]},{"op":"toggle","a":0,"b":0},{"op":"deliver","count":1,"picks":[0,0,0,0,0,0,0,0]},{"op":"append","dev":1,"file":1,"lines":["aaaé😀😀é","aaaaaaa",""]},{"op":"append","dev":2,"file":0,"lines":["aa😀a","aaa😀aaaa😀a"]}],"finalPicks":[13]},
  // A want produced before a store effect of the same list went out after the wants the answer
  // to that effect produced: the peer's subscription for the item was the dropped pull's, and
  // the pull this device waited on was never served nor ended.
  {"devices":4,"ops":[{"op":"deliver","count":4,"picks":[14,3,28,29,12,0,0,0]},{"op":"deliver","count":2,"picks":[22,2,0,0,0,0,0,0]},{"op":"partial","dev":1,"file":1,"text":""},{"op":"append","dev":1,"file":0,"lines":[""]},{"op":"append","dev":3,"file":1,"lines":["",""]},{"op":"deliver","count":2,"picks":[29,40,0,0,0,0,0,0]},{"op":"deliver","count":2,"picks":[32,48,0,0,0,0,0,0]},{"op":"deliver","count":6,"picks":[0,2,3,7,5,24,0,0]},{"op":"deliver","count":7,"picks":[0,18,0,5,0,19,7,0]},{"op":"toggle","a":2,"b":3},{"op":"append","dev":2,"file":1,"lines":[""]},{"op":"deliver","count":1,"picks":[9,0,0,0,0,0,0,0]},{"op":"deliver","count":3,"picks":[0,9,32,0,0,0,0,0]},{"op":"append","dev":3,"file":0,"lines":[""]},{"op":"append","dev":0,"file":1,"lines":["",""]},{"op":"complete","dev":0,"file":0}],"finalPicks":[10,9,4,45,16,8]},
];

describe('replication regressions', () => {
  cases.forEach((c, i) => {
    for (const mode of ['fork', 'syncthing'] as const) {
      it(`case ${i + 1} (${c.devices} devices), ${mode} policy`, async () => {
        await runScenario(mode, c);
      });
    }
  });
});
