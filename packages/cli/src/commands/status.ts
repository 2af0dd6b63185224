/** `roam status [--json] [--verbose]`: this device, its folders and its peers, with sync progress. */
import type { Io } from '../io.js';
import { call } from '../control/client.js';
import { roamPaths } from '../machine/paths.js';
import { bytes, peerLine } from './helpers/format.js';
import { reachLine } from './helpers/reach.js';

export async function status(opts: { json?: boolean; verbose?: boolean }, io: Io): Promise<void> {
  const s = await call(roamPaths().socket, 'status');
  if (opts.json) {
    io.out(JSON.stringify(s, null, 2));
    return;
  }
  io.out(`${s.name}  ${s.peerId}  (roam ${s.version})`);
  for (const a of s.addresses) io.out(`  listening on ${a}`);
  if (s.reachability) io.out(`  ${reachLine(s.reachability)}`);
  io.out(s.folders.length ? 'folders:' : 'folders: none');
  for (const f of s.folders) io.out(`  ${f.id}  ${f.path}  ${f.items} item(s), ${bytes(f.bytes)}`);
  if (s.offered?.length) io.out('offered:');
  for (const o of s.offered ?? []) {
    const how = o.tool ? `taking it at ${o.path}` : `add it here with a path of your choosing (config.json "folders", then \`roam reload\`), or decline it ("exclude")`;
    io.out(`  ${o.id}  offered by ${o.by.join(', ')}: ${how}`);
  }
  if (s.skipped?.length) io.out('skipped:');
  for (const k of s.skipped ?? []) io.out(`  ${k.folder}  skipped, ${k.reason}${k.items !== null ? `: ${k.items} item(s)` : ''} (held by ${k.by.join(', ')})`);
  if (s.approval?.self) io.out('this device waits for approval: it gets no data until a member other than the one that added it runs `roam devices --approve` for it');
  for (const d of s.approval?.pending ?? []) io.out(`${d.name} (${d.peerId}) was added by ${d.addedBy.name} and waits for approval (trust.approve is on): \`roam devices --approve ${d.name}\` on another member`);
  for (const d of (s.newDevices ?? []).filter((n) => !s.approval?.pending.some((p) => p.peerId === n.peerId))) {
    io.out(`${d.name} (${d.peerId}) was added by ${d.addedBy.name} and not acknowledged: \`roam devices --ack ${d.name}\``);
  }
  io.out(s.peers.length ? 'devices:' : 'devices: none yet');
  for (const p of s.peers) {
    io.out(`  ${peerLine(p)}`);
    // The addresses it is dialed at: typed, found on the LAN, or from the group's address book.
    if (opts.verbose) for (const a of p.addresses) io.out(`      at ${a}`);
  }
}

