// Stress for ThreadSanitizer: JavaScript hammers commands and queries (members, member, stats,
// update, join, shutdown and restart) while the I/O threads of several clusters exchange real
// traffic, and a worker thread does the same and exits with its clusters still running. Run by
// test/tsan/run-tsan.sh with `node --test` (TSan does not survive vitest's process pool)
// against an addon built with -fsanitize=thread; any report fails the run. It also passes
// against a normal build: `node --test test/tsan/stress.mjs`.
//
// CONSTELLATION_ROOT: the package root whose dist/ and build/ to load (default: this checkout).
// STRESS_MS: how long to hammer (default 4000).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep, setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.CONSTELLATION_ROOT ?? path.resolve(here, '..', '..');
const require = createRequire(import.meta.url);
const { Cluster } = require(path.join(root, 'dist', 'index.js'));
const stressMs = Number(process.env.STRESS_MS ?? 4000);

const FAST = {
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  gossipIntervalMs: 20,
  pushPullIntervalMs: 300,
  reconnectIntervalMs: 300,
  streamTimeoutMs: 1000,
  // TSan slows everything several times over: do not let that read as failure.
  suspicionMult: 8,
};

function address(cluster) {
  return `${cluster.address.host}:${cluster.address.port}`;
}

async function waitFor(what, condition, timeoutMs = 30_000) {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// A worker that starts clusters, joins the main thread's seed, hammers them, and ends with
// them still running: the env cleanup hook stops their threads while traffic flows.
function hammerInWorker(seed) {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Cluster } = require(workerData.dist);
    (async () => {
      const a = await Cluster.start({ ...workerData.fast, nodeName: 'w0', bind: '127.0.0.90:0' });
      const b = await Cluster.start({ ...workerData.fast, nodeName: 'w1', bind: '127.0.0.91:0' });
      a.on('event', () => {});
      await Promise.all([a.join([workerData.seed]), b.join([workerData.seed])]);
      let ops = 0;
      const until = Date.now() + workerData.ms;
      while (Date.now() < until) {
        a.members(); b.member('s0'); a.stats();
        if (ops % 50 === 0) await b.update({ resources: { currentInstances: ops % 7 } });
        ops++;
        await new Promise((r) => setImmediate(r));
      }
      parentPort.postMessage(ops);
    })();
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, {
      eval: true,
      workerData: { dist: path.join(root, 'dist', 'index.js'), fast: FAST, seed, ms: stressMs / 2 },
    });
    let ops = 0;
    worker.on('message', (n) => {
      ops = n;
    });
    worker.on('error', reject);
    worker.on('exit', (code) => resolve({ code, ops }));
  });
}

test('commands and queries race the I/O threads of several clusters without a data race', async () => {
  const clusters = [];
  let restarts = 0;
  try {
    for (let i = 0; i < 5; i++) {
      // Both threading modes: odd members get an I/O thread of their own.
      const ioThread = i % 2 === 1 ? 'own' : 'shared';
      clusters.push(await Cluster.start({ ...FAST, ioThread, nodeName: `s${i}`, bind: `127.0.0.${81 + i}:0` }));
    }
    const seed = address(clusters[0]);
    let events = 0;
    for (const c of clusters) c.on('event', () => events++);
    await Promise.all(clusters.slice(1).map((c) => c.join([seed])));

    const worker = hammerInWorker(seed);
    let ops = 0;
    const until = Date.now() + stressMs;
    while (Date.now() < until) {
      const c = clusters[ops % clusters.length];
      c.members();
      c.members({ state: 'alive', minCpuAvailable: 0.5 });
      c.member(`s${ops % 5}`);
      c.stats();
      void c.local;
      if (ops % 20 === 0) await c.update({ resources: { cpuAvailable: (ops % 8) / 2 }, tags: { n: String(ops) } });
      if (ops % 97 === 0) c.join([seed]).catch(() => {});
      if (ops % 400 === 399) {
        // Shut one member down mid-traffic and start a successor under the same name.
        const index = 1 + (restarts % (clusters.length - 1));
        const old = clusters[index];
        const name = old.local.name;
        const bind = address(old);
        await old.shutdown();
        clusters[index] = await Cluster.start({
          ...FAST,
          ioThread: index % 2 ? 'own' : 'shared',
          nodeName: name,
          bind,
        });
        clusters[index].on('event', () => events++);
        clusters[index].join([seed]).catch(() => {});
        restarts++;
      }
      ops++;
      await yieldToLoop();
    }
    const fromWorker = await worker;
    assert.equal(fromWorker.code, 0);
    assert.ok(fromWorker.ops > 0, 'the worker hammered its clusters');
    assert.ok(ops > 100, `only ${ops} operations ran`);
    assert.ok(restarts > 0, 'no member was restarted');
    assert.ok(events > 0, 'no event was delivered');

    const names = clusters.map((c) => c.local.name);
    await waitFor('every running member to see the others alive', () =>
      clusters.every((c) => names.every((n) => c.member(n)?.state === 'alive')),
    );
  } finally {
    await Promise.all(clusters.map((c) => c.shutdown()));
  }
});

test('the simulator splits engine work across threads without a data race', () => {
  // Each round's engine work runs on two threads (native/sim/simulator.h); under TSan any
  // shared write between them is reported. The result must not depend on the thread count.
  const addon = require(path.join(root, 'build', 'Release', 'constellation.node'));
  const scenario = {
    seed: 7,
    nodes: 300,
    loss: 0.05,
    durationMs: 12_000,
    recordEvents: false,
    actions: [
      { at: 3_000, kind: 'crash', members: ['n3'] },
      { at: 6_000, kind: 'restart', members: ['n3'] },
    ],
  };
  const one = addon.sim.simulate({ ...scenario, threads: 1 });
  const two = addon.sim.simulate({ ...scenario, threads: 2 });
  assert.ok(one.metrics.eventCount > 10_000);
  assert.equal(two.logHash, one.logHash);
});
