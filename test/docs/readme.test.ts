// The examples of README.md (the README sections of the operator's tools) run here:
// the CLI session as written (ports swapped for free ones, so the test never collides with
// anything listening on 7946), and the configuration table against the native profile table.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OPTION_NAMES, resolveOptions } from '../../src/config';
import { profileDefaults } from '../../src/index';
import { cliPath, root, runCli, waitFor } from '../agent/agent-process';

const doc = readFileSync(path.join(root, 'README.md'), 'utf8');

/** The text after the `<!-- test: name -->` marker: the fenced block or table that follows. */
function marked(name: string): string {
  const at = doc.indexOf(`<!-- test: ${name} -->`);
  if (at < 0) throw new Error(`README.md has no <!-- test: ${name} --> marker`);
  return doc.slice(at + `<!-- test: ${name} -->`.length).trimStart();
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('README.md', () => {
  const background: { child: ChildProcess; out: () => string; exit: Promise<number | null> }[] = [];
  afterAll(() => {
    for (const b of background) b.child.kill('SIGKILL');
  });

  it('runs the CLI session as written: two agents, members, update, leave', async () => {
    const block = /^```sh\n([\s\S]*?)\n```/.exec(marked('cli-session'))?.[1];
    expect(block).toBeDefined();
    const commands = (block as string).replace(/\\\n\s*/g, '').split('\n');
    expect(commands.length).toBeGreaterThanOrEqual(5);
    // Each IP:PORT of the example gets a free port on the same IP, the same one everywhere.
    const ports = new Map<string, string>();
    for (const [whole, ip] of (block as string).matchAll(/(\d+\.\d+\.\d+\.\d+):(\d+)/g)) {
      if (!ports.has(whole)) ports.set(whole, `${ip}:${await freePort(ip as string)}`);
    }
    const rewrite = (word: string) => ports.get(word) ?? word;

    for (const line of commands) {
      const words = line.trim().split(/\s+/);
      const inBackground = words.at(-1) === '&';
      if (inBackground) words.pop();
      expect(words[0], line).toBe('constellation');
      const args = words.slice(1).map(rewrite);
      if (inBackground) {
        const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout?.setEncoding('utf8').on('data', (c: string) => {
          out += c;
        });
        const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
        background.push({ child, out: () => out, exit });
        // What a person typing the session waits for before the next line.
        await waitFor(`\`${line}\` to have joined or started a cluster`, () =>
          /joined through|no seeds: started a new cluster/.test(out),
        );
        continue;
      }
      if (args[0] === 'members') {
        // Gossip may still be on its way: the same command, repeated until it shows the outcome.
        const expectation = args.includes('--json')
          ? (stdout: string) =>
              (JSON.parse(stdout) as { name: string; resources: { currentInstances: number } }[]).some(
                (m) => m.name === 'api-2' && m.resources.currentInstances === 1,
              )
          : (stdout: string) => /^api-1 \*\s+.*alive/m.test(stdout) && /^api-2\s+.*alive/m.test(stdout);
        await waitFor(`\`${line}\` to show the expected table`, async () => {
          const { code, stdout } = await runCli(args);
          expect(code).toBe(0);
          return expectation(stdout);
        });
        continue;
      }
      const { code, stderr } = await runCli(args);
      expect(code, `${line}\n${stderr}`).toBe(0);
    }
    // Both agents left and exited cleanly.
    for (const b of background) {
      expect(await b.exit).toBe(0);
      expect(b.out()).toContain('agent stopped');
    }
  });

  it("states each profile's protocol defaults exactly as the native table has them", () => {
    const table = marked('profile-table').split('\n\n')[0] as string;
    const rows = table
      .split('\n')
      .slice(2)
      .map((row) => row.split('|').map((cell) => cell.trim()));
    const documented = new Map(rows.map((cells) => [(cells[1] as string).replace(/`/g, ''), cells.slice(2, 5)]));
    const profiles = ['lan', 'wan', 'local'] as const;
    const keys = Object.keys(profileDefaults('lan'));
    expect([...documented.keys()].sort()).toEqual([...keys].sort());
    for (const key of keys) {
      profiles.forEach((profile, i) => {
        const actual = String((profileDefaults(profile) as unknown as Record<string, unknown>)[key]);
        expect(documented.get(key)?.[i], `${key} (${profile})`).toBe(actual);
      });
    }
  });

  it('lists every non-protocol option of Cluster.start in the options table, with the defaults start() applies', () => {
    const table = marked('options-table').split('\n\n')[0] as string;
    const rows = table
      .split('\n')
      .slice(2)
      .map((row) => row.split('|').map((cell) => cell.trim()));
    const documented = new Map(rows.map((cells) => [(cells[1] as string).replace(/`/g, ''), cells[2] as string]));
    expect([...documented.keys()].sort()).toEqual([...OPTION_NAMES].sort());
    const resolved = resolveOptions({ nodeName: 'x' });
    expect(documented.get('bind')).toBe('`0.0.0.0:7946`');
    expect(`${resolved.bindIp}:${resolved.bindPort}`).toBe('0.0.0.0:7946');
    expect(documented.get('clusterName')).toBe(`\`${resolved.clusterName}\``);
    expect(documented.get('profile')).toBe(`\`${resolved.profile}\``);
    expect(documented.get('ioThread')).toBe(`\`${resolved.ioThread}\``);
    expect(documented.get('incarnation')).toBe(String(resolved.incarnation));
  });

  it('runs the observability example: the logger, the starting incarnation and probe round-trip times', async () => {
    const block = /^```js\n([\s\S]*?)\n```/.exec(marked('observability-example'))?.[1];
    expect(block).toBeDefined();
    // As a module evaluated in the package root, so '@rads/constellation' resolves to this package.
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', block as string],
        { cwd: root, timeout: 30_000 },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
      );
    });
    const lines = stdout.trim().split('\n');
    const records = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(records.find((r) => r.message === 'cluster started')).toMatchObject({
      level: 'info',
      name: 'db-1',
      incarnation: 7,
      profile: 'local',
    });
    expect(records.find((r) => r.message === 'member join')).toMatchObject({ member: 'db-2', state: 'alive' });
    expect(records.at(-1)).toMatchObject({ message: 'cluster stopped', name: 'db-1' });
    const summary = /^db-1 is at incarnation (\d+); (\d+) probe\(s\), mean RTT ([\d.]+) ms$/m.exec(stdout);
    expect(summary, stdout).not.toBeNull();
    expect(Number(summary?.[1])).toBe(7);
    expect(Number(summary?.[2])).toBeGreaterThan(0);
    expect(Number(summary?.[3])).toBeLessThan(200);
  });
});
