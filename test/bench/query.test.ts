// bench/query.mjs feeds a running cluster through a stand-in seed (a SYNC over TCP) and raw UDP
// updates. Its packets must be ones the runtime accepts: once every packet had to carry the
// cluster label, unlabelled ones were dropped as wrong_cluster and the benchmark waited
// forever. This runs it small and checks that every join and update event arrived.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');

describe('the query benchmark', () => {
  it('delivers every join and update event of a small table and reports its fields', async () => {
    const members = 300;
    const { stdout } = await run(
      process.execPath,
      ['bench/run.mjs', 'query', '--members', String(members), '--calls', '3', '--rounds', '1'],
      { cwd: root, timeout: 60_000 },
    );
    const lines = stdout.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1] as string);
    expect(result).toMatchObject({ scenario: 'query', members, eventsDelivered: members });
    expect(result.filteredMatches).toBeGreaterThan(0);
    expect(result.membersCallUs).toBeGreaterThan(0);
  }, 90_000);
});
