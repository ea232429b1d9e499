// `npm run demo` (scripts/demo.mjs) end to end: five agent processes, a kill, a pause, an update,
// and nothing left running afterwards, whether it ends by itself or by Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { processExists, root, waitFor } from '../agent/agent-process';

const demo = path.join(root, 'scripts', 'demo.mjs');

function startDemo(): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [demo, '--hold-ms', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

function agentPids(output: string): number[] {
  const match = /\(pids ([\d, ]+)\)/.exec(output);
  if (!match) throw new Error(`the demo did not print its agents' pids:\n${output}`);
  return (match[1] as string).split(',').map((p) => Number(p.trim()));
}

describe('npm run demo', () => {
  it('runs to completion, shows the killed member dead, the paused one back and the update, and leaves no process', async () => {
    const { output, exit } = startDemo();
    const code = await exit;
    const text = output();
    expect(code, text).toBe(0);
    // node-1's feed reported each change as it arrived.
    expect(text).toMatch(/dead\s+node-5\s+dead/);
    expect(text).toMatch(/suspect\s+node-4/);
    expect(text).toMatch(/alive\s+node-4\s+alive\s+incarnation [1-9]/);
    expect(text).toMatch(/update\s+node-3/);
    expect(text).toContain('all four survivors agree: node-5 dead, the rest alive');
    // The final table shows node-5 dead and node-3 with 7 of 8 instances in use.
    expect(text).toMatch(/node-5\s+127\.0\.0\.5:\d+\s+dead/);
    expect(text).toMatch(/node-3\s+127\.0\.0\.3:\d+\s+alive\s+\d+\s+7\/8/);
    const pids = agentPids(text);
    expect(pids).toHaveLength(5);
    for (const pid of pids) expect(processExists(pid), `agent pid ${pid} still exists`).toBe(false);
  });

  it('stops every agent it started when interrupted with Ctrl-C (SIGINT)', async () => {
    const { child, output, exit } = startDemo();
    await waitFor('the demo to start its five agents', () => /\(pids [\d, ]+\)/.test(output()), { timeoutMs: 30_000 });
    const pids = agentPids(output());
    child.kill('SIGINT');
    const code = await exit;
    expect(code).toBe(130);
    expect(output()).toContain('stopped every agent');
    // SIGKILL is immediate but the kernel reaps asynchronously: allow it a moment, by polling.
    await waitFor('every agent process to be gone', () => pids.every((pid) => !processExists(pid)), {
      timeoutMs: 5000,
    });
  });
});
