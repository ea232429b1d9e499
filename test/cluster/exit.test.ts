// A process using clusters exits on its own: after shutdown nothing keeps the event loop alive,
// and running clusters never hold it open either (only a command in flight does, until it
// settles). Each case runs in a child process that must exit by itself within the deadline.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const compiled = path.resolve(__dirname, '..', '..', 'dist', 'index.js');

function runScript(
  body: string,
  timeoutMs = 20_000,
): Promise<{ status: number | null; signal: string | null; out: string }> {
  const source = `
    const { Cluster } = require(${JSON.stringify(compiled)});
    const FAST = { probeIntervalMs: 200, probeTimeoutMs: 100, gossipIntervalMs: 50 };
    (async () => { ${body} })().catch((e) => { console.log('error', e.code, e.message); process.exitCode = 3; });
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the process did not exit on its own within ${timeoutMs} ms; output so far: ${out}`));
    }, timeoutMs);
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, out });
    });
  });
}

describe('process exit', () => {
  it('exits on its own once its clusters are shut down, listeners and iterators included', async () => {
    const { status, signal, out } = await runScript(`
      const a = await Cluster.start({ ...FAST, nodeName: 'a', bind: '127.0.0.61:0' });
      const b = await Cluster.start({ ...FAST, nodeName: 'b', bind: '127.0.0.62:0' });
      a.on('event', () => {});
      const iterating = (async () => { let n = 0; for await (const _ of b.events()) n++; return n; })();
      await b.join([a.address.host + ':' + a.address.port]);
      await a.update({ tags: { k: 'v' } });
      await a.shutdown();
      await b.leave({ timeoutMs: 500 });
      console.log('iterator ended after', await iterating, 'events');
    `);
    expect(signal).toBeNull();
    expect(status).toBe(0);
    expect(out).toMatch(/iterator ended after \d+ events/);
  });

  it('exits on its own with clusters still running: they do not hold the event loop', async () => {
    // Eight members still exchanging their joins when the script ends: batches of events are
    // in flight while Node tears the environment down, and must be dropped quietly.
    const { status, signal, out } = await runScript(`
      const clusters = [];
      for (let i = 0; i < 8; i++) {
        const c = await Cluster.start({ ...FAST, nodeName: 'n' + i, bind: '127.0.0.' + (70 + i) + ':0' });
        c.on('event', () => {});
        clusters.push(c);
      }
      const seed = clusters[0].address.host + ':' + clusters[0].address.port;
      await Promise.all(clusters.slice(1).map((c) => c.join([seed])));
      console.log('seed knows', clusters[0].members().length);
    `);
    expect(signal).toBeNull();
    expect(status).toBe(0);
    expect(out).toContain('seed knows 8');
  });

  it('stays alive while a command is in flight and exits once it settles', async () => {
    // The seed accepts connections and never answers: the join fails after streamTimeoutMs.
    const { status, out } = await runScript(`
      const net = require('node:net');
      const silent = net.createServer(() => {}).listen(0, '127.0.0.65');
      await new Promise((r) => silent.once('listening', r));
      silent.unref();
      const a = await Cluster.start({ ...FAST, nodeName: 'a', bind: '127.0.0.66:0', streamTimeoutMs: 1500 });
      a.join(['127.0.0.65:' + silent.address().port]).catch((e) => console.log('join settled', e.code));
    `);
    expect(status).toBe(0);
    expect(out).toContain('join settled ERR_JOIN_FAILED');
  });

  it('exits with the given code when process.exit is called with clusters running', async () => {
    const { status, signal } = await runScript(`
      const clusters = [];
      for (let i = 0; i < 4; i++) clusters.push(await Cluster.start({ ...FAST, nodeName: 'n' + i, bind: '127.0.0.67:0' }));
      await clusters[1].join([clusters[0].address.host + ':' + clusters[0].address.port]);
      process.exit(5);
    `);
    expect(signal).toBeNull();
    expect(status).toBe(5);
  });
});
