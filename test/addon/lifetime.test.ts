import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { addon, projectRoot } from '../helpers/addon';

// Runs `body` in a worker thread that loads the addon itself; resolves with the worker's exit
// code and the messages it posted.
function runInWorker(body: string): Promise<{ exitCode: number; messages: unknown[] }> {
  const source = `
    const { parentPort } = require('node:worker_threads');
    const addon = require('node-gyp-build')(${JSON.stringify(projectRoot)});
    ${body}
  `;
  return new Promise((resolve, reject) => {
    const messages: unknown[] = [];
    const worker = new Worker(source, { eval: true });
    worker.on('message', (m) => messages.push(m));
    worker.on('error', reject);
    worker.on('exit', (exitCode) => resolve({ exitCode, messages }));
  });
}

describe('addon lifetime', () => {
  it('loads and unloads in a worker thread that exits cleanly', async () => {
    const { exitCode, messages } = await runInWorker(`parentPort.postMessage(addon.protocolVersion);`);
    expect(exitCode).toBe(0);
    expect(messages).toEqual([addon.protocolVersion]);
  });

  it('stops and joins a native thread left running when its worker exits', async () => {
    // The worker starts a native thread and exits without stopping it: the env cleanup hook
    // must stop and join it, or the process would abort on a joinable std::thread.
    const stoppedBefore = addon.testing.stoppedByCloser();
    const { exitCode, messages } = await runInWorker(`
      addon.testing.startIdleThread();
      addon.testing.startIdleThread();
      parentPort.postMessage(addon.activeClosers());
    `);
    expect(exitCode).toBe(0);
    expect(messages).toEqual([2]);
    expect(addon.testing.stoppedByCloser() - stoppedBefore).toBe(2);
  });

  it('tracks native threads in the environment that started them', () => {
    const before = addon.activeClosers();
    const handle = addon.testing.startIdleThread();
    expect(addon.activeClosers()).toBe(before + 1);
    handle.stop();
    expect(addon.activeClosers()).toBe(before);
  });

  it('lets the process exit when a native thread is still running at exit', () => {
    // The main thread's environment runs the same cleanup hook at exit.
    const child = spawnSync(
      process.execPath,
      ['-e', `require('node-gyp-build')(${JSON.stringify(projectRoot)}).testing.startIdleThread()`],
      { timeout: 30_000, encoding: 'utf8' },
    );
    expect(child.error).toBeUndefined();
    expect(child.signal).toBeNull();
    expect(child.status).toBe(0);
  });
});
