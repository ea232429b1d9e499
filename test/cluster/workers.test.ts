// Clusters inside worker threads: each worker has its own Node environment, and the addon's env
// cleanup hook must stop and join the I/O threads of clusters a worker leaves running.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../../src/index';
import { addressOf, FAST, stateOf, waitFor } from './helpers';

const compiled = path.resolve(__dirname, '..', '..', 'dist', 'index.js');

// Runs `body` (an async function body with `Cluster`, `post`, `workerData` in scope) in a
// worker; resolves with its exit code and what it posted.
function runInWorker(body: string, workerData: unknown = {}): Promise<{ exitCode: number; messages: unknown[] }> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Cluster } = require(${JSON.stringify(compiled)});
    const addon = require('node-gyp-build')(${JSON.stringify(path.resolve(__dirname, '..', '..'))});
    const post = (m) => parentPort.postMessage(m);
    const FAST = ${JSON.stringify(FAST)};
    (async () => { ${body} })().catch((e) => { post({ error: e.message }); process.exitCode = 3; });
  `;
  return new Promise((resolve, reject) => {
    const messages: unknown[] = [];
    const worker = new Worker(source, { eval: true, workerData });
    worker.on('message', (m) => messages.push(m));
    worker.on('error', reject);
    worker.on('exit', (exitCode) => resolve({ exitCode, messages }));
  });
}

describe('clusters in worker threads', () => {
  let observer: Cluster;

  beforeAll(async () => {
    observer = await Cluster.start({ ...FAST, nodeName: 'main', bind: '127.0.0.41:0' });
  });
  afterAll(() => observer.shutdown());

  it('starts, joins and shuts down clusters inside a worker that then exits cleanly', async () => {
    const { exitCode, messages } = await runInWorker(
      `
      const a = await Cluster.start({ ...FAST, nodeName: 'w-a', bind: '127.0.0.42:0' });
      const b = await Cluster.start({ ...FAST, nodeName: 'w-b', bind: '127.0.0.43:0' });
      await b.join([a.address.host + ':' + a.address.port, workerData.seed]);
      const deadline = Date.now() + 10000;
      while (a.members({ state: 'alive' }).length < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      post({ aliveAtA: a.members({ state: 'alive' }).length, closers: addon.activeClosers() });
      await a.shutdown();
      await b.leave();
      post({ closersAfter: addon.activeClosers(), running: a.running || b.running });
    `,
      { seed: addressOf(observer) },
    );
    expect(exitCode).toBe(0);
    expect(messages).toEqual([
      { aliveAtA: 3, closers: 2 },
      { closersAfter: 0, running: false },
    ]);
    // The main thread's member saw both, then one leave and one die.
    await waitFor(
      () =>
        `main sees w-b left and w-a dead (w-b ${stateOf(observer, 'w-b')}, w-a ${stateOf(observer, 'w-a')}; ${JSON.stringify(observer.members().map((m) => [m.name, m.state, m.incarnation]))})`,
      () => stateOf(observer, 'w-b') === 'left' && stateOf(observer, 'w-a') === 'dead',
    );
  });

  it('exits cleanly when a worker ends without shutting its cluster down, and the cluster stops', async () => {
    const { exitCode, messages } = await runInWorker(
      `
      const c = await Cluster.start({ ...FAST, nodeName: 'w-left-running', bind: '127.0.0.44:0' });
      await c.join([workerData.seed]);
      post({ closers: addon.activeClosers() });
      // No shutdown: the worker's script ends with the cluster running.
    `,
      { seed: addressOf(observer) },
    );
    expect(exitCode).toBe(0);
    expect(messages).toEqual([{ closers: 1 }]);
    // The cleanup hook stopped its thread and closed its sockets: it stops answering probes.
    await waitFor('main marks w-left-running dead', () => stateOf(observer, 'w-left-running') === 'dead');
  });

  it('exits cleanly when a worker calls process.exit with clusters running', async () => {
    const { exitCode } = await runInWorker(`
      const clusters = [];
      for (let i = 0; i < 3; i++) clusters.push(await Cluster.start({ ...FAST, nodeName: 'x' + i, bind: '127.0.0.45:0' }));
      await clusters[1].join([clusters[0].address.host + ':' + clusters[0].address.port]);
      process.exit(7);
    `);
    expect(exitCode).toBe(7);
  });

  it('survives a worker terminated from outside in the middle of a native call', () => {
    // Each worker calls into the addon without pause, so termination lands inside a native
    // call. That call fails and node-addon-api cannot throw the failure into a dying
    // JavaScript either: without NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS (binding.gyp) it
    // rethrew in C++ and the process aborted, within the first few rounds. The rounds run in a
    // child process, so an abort shows as a signal rather than taking the test runner down.
    const script = `
      const { Worker } = require('node:worker_threads');
      const addon = require('node-gyp-build')(${JSON.stringify(path.resolve(__dirname, '..', '..'))});
      (async () => {
        for (let round = 0; round < 15; round++) {
          const worker = new Worker(\`
            const { parentPort } = require('node:worker_threads');
            const { Cluster } = require(${JSON.stringify(compiled)});
            (async () => {
              const a = await Cluster.start({ nodeName: 't', bind: '127.0.0.46:0' });
              a.on('event', () => {});
              parentPort.postMessage('calling');
              for (;;) a.members();
            })();
          \`, { eval: true });
          await new Promise((resolve) => worker.once('message', resolve));
          const exitCode = await worker.terminate();
          console.log('round', round, 'exit', exitCode, 'closers', addon.activeClosers());
        }
      })();
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
    const rounds = child.stdout.trim().split('\n');
    expect(rounds).toHaveLength(15);
    // Every worker was stopped by the termination (exit code 1) and its cluster's I/O closer
    // was run by the cleanup hook.
    for (const line of rounds) expect(line).toMatch(/^round \d+ exit 1 closers 0$/);
  });
});
