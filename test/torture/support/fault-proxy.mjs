// A userspace TCP proxy that injects network faults, for kernels without `tc netem` (run inside a
// namespace between two others, it is the only path between them). Per direction of each
// connection, the bytes are cut into segments of at most 1448 bytes (an Ethernet MSS); each
// segment is held for `delay ± jitter` ms; with probability `loss` a segment is "lost" and, as TCP
// recovers a lost segment one round trip later and delivers nothing after it meanwhile, it and
// everything behind it wait one more round trip (2 × delay; losses during a recovery overlap).
// Segments keep their order (TCP would reorder them anyway); reordered delivery shows to the
// applications as this jitter and random re-segmentation. A partition ("hold") keeps every byte
// queued until "release"; "reset" aborts every connection.
//
//   node fault-proxy.mjs '<json config>'
//   config: { routes: [{ listen: "10.0.0.2:4101", target: "10.0.1.1:4001" }], delayMs, jitterMs, loss, seed }
//   stdin:  "stats" (prints one JSON line), "hold", "release", "reset", "set <json>" (change faults)
//   stdout: "ready" once every route listens, then one JSON line per "stats"
import net from 'node:net';

const cfg = JSON.parse(process.argv[2]);
const faults = { delayMs: cfg.delayMs ?? 0, jitterMs: cfg.jitterMs ?? 0, loss: cfg.loss ?? 0 };
const MSS = 1448;
const HIGH = 4 << 20;
const LOW = 1 << 20;

let seed = (cfg.seed ?? 1) >>> 0;
const rand = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const stats = { connections: 0, open: 0, segments: 0, bytes: 0, lost: 0, resets: 0, refused: 0, maxQueued: 0 };
let held = false;
const pipes = new Set();

/** One direction: from `src` to `dst`, with the faults applied. */
function pipe(src, dst) {
  const q = []; // { at, data }
  let queued = 0;
  let last = 0;
  let stallEnd = 0;
  let timer = null;
  let waitingDrain = false;
  let ended = false;
  const p = {
    kick: () => schedule(),
    close: () => {
      clearTimeout(timer);
      q.length = 0;
    },
  };
  pipes.add(p);
  const schedule = () => {
    if (timer || waitingDrain || held || !q.length) return;
    timer = setTimeout(flush, Math.max(0, q[0].at - Date.now()));
  };
  const flush = () => {
    timer = null;
    const now = Date.now();
    while (q.length && q[0].at <= now && !held) {
      const seg = q.shift();
      queued -= seg.data.length;
      if (queued < LOW && src.isPaused()) src.resume();
      if (!dst.destroyed && !dst.write(seg.data)) {
        waitingDrain = true;
        dst.once('drain', () => {
          waitingDrain = false;
          schedule();
        });
        return;
      }
    }
    if (!q.length && ended && !dst.destroyed) dst.end();
    schedule();
  };
  src.on('data', (chunk) => {
    const now = Date.now();
    for (let o = 0; o < chunk.length; ) {
      const n = Math.min(chunk.length - o, 1 + Math.floor(rand() * MSS));
      const data = chunk.subarray(o, o + n);
      o += n;
      let at = Math.max(last, now + faults.delayMs + (rand() * 2 - 1) * faults.jitterMs);
      if (faults.loss > 0 && rand() < faults.loss && at >= stallEnd) {
        at += 2 * faults.delayMs + 1;
        stallEnd = at;
        stats.lost++;
      }
      last = at;
      q.push({ at, data });
      queued += n;
      stats.segments++;
      stats.bytes += n;
    }
    stats.maxQueued = Math.max(stats.maxQueued, queued);
    if (queued > HIGH) src.pause();
    schedule();
  });
  src.on('end', () => {
    ended = true;
    if (!q.length && !dst.destroyed) dst.end();
  });
  return p;
}

const sockets = new Set();
for (const route of cfg.routes) {
  const [lhost, lport] = route.listen.split(':');
  const [thost, tport] = route.target.split(':');
  const server = net.createServer({ pauseOnConnect: false }, (client) => {
    stats.connections++;
    stats.open++;
    const upstream = net.connect({ host: thost, port: Number(tport) });
    sockets.add(client);
    sockets.add(upstream);
    const a = pipe(client, upstream);
    const b = pipe(upstream, client);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      stats.open--;
      a.close();
      b.close();
      pipes.delete(a);
      pipes.delete(b);
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', () => {
      stats.refused++;
      close();
    });
    client.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  server.on('error', (e) => {
    console.error(`fault-proxy: ${route.listen}: ${e.message}`);
    process.exit(1);
  });
  await new Promise((r) => server.listen(Number(lport), lhost, r));
}
console.log('ready');

let buf = '';
process.stdin.setEncoding('utf8').on('data', (s) => {
  buf += s;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    if (line === 'stats') console.log(JSON.stringify(stats));
    else if (line === 'hold') held = true;
    else if (line === 'release') {
      held = false;
      for (const p of pipes) p.kick();
    } else if (line === 'reset') {
      stats.resets += sockets.size;
      for (const s of sockets) s.resetAndDestroy?.() ?? s.destroy();
    } else if (line.startsWith('set ')) Object.assign(faults, JSON.parse(line.slice(4)));
  }
});
process.stdin.on('end', () => process.exit(0));
