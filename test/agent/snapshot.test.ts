// The snapshot file: what is appended is read back; a torn or corrupt tail is cut off and never
// fatal; compaction keeps only the current state; a file that is not a snapshot is refused.
import { appendFile, mkdtemp, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/agent/logger';
import { Snapshot } from '../../src/agent/snapshot';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'constellation-snapshot-'));
});

const member = (name: string, state = 'alive', incarnation = 0, port = 7946) => ({
  name,
  address: '127.0.0.1',
  port,
  state,
  incarnation,
});

/** A logger that keeps what it is given. */
function recordingLogger() {
  const records: { level: string; fields: Record<string, unknown>; message?: string }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message?: string): void => {
      records.push({ level, fields, message });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, records };
}

async function writeSome(file: string): Promise<void> {
  const { snapshot } = await Snapshot.open(file);
  snapshot.recordSelf('me', 3);
  snapshot.recordMember(member('b'));
  snapshot.recordMember(member('c'));
  snapshot.recordMember(member('c', 'dead', 1));
  snapshot.recordMember(member('d'));
  snapshot.forget('d');
  await snapshot.close();
}

describe('snapshot file', () => {
  it('reads back what was recorded: our incarnation and the latest record of each member', async () => {
    const file = path.join(dir, 'snap');
    await writeSome(file);
    const { snapshot, contents } = await Snapshot.open(file);
    await snapshot.close();
    expect(contents.self).toEqual({ name: 'me', incarnation: 3 });
    expect(snapshot.selfIncarnation('me')).toBe(3);
    expect(snapshot.selfIncarnation('someone-else')).toBe(0);
    expect([...contents.members.keys()].sort()).toEqual(['b', 'c']);
    expect(contents.members.get('c')).toEqual(member('c', 'dead', 1));
    expect(contents.records).toBe(6);
    expect(contents.discardedBytes).toBe(0);
  });

  it('does not append a record that changes nothing', async () => {
    const file = path.join(dir, 'snap');
    const { snapshot } = await Snapshot.open(file);
    snapshot.recordMember(member('b'));
    await snapshot.flush();
    const size = (await stat(file)).size;
    snapshot.recordMember(member('b'));
    snapshot.recordSelf('me', 0);
    snapshot.recordSelf('me', 0);
    await snapshot.flush();
    expect((await stat(file)).size).toBeGreaterThan(size); // the first self record only
    const afterSelf = (await stat(file)).size;
    snapshot.recordSelf('me', 0);
    snapshot.recordMember(member('b'));
    await snapshot.close();
    expect((await stat(file)).size).toBe(afterSelf);
  });

  it.each([
    ['torn in the middle of the last record', async (file: string) => truncate(file, (await stat(file)).size - 5)],
    ['torn inside the last header', async (file: string) => appendFile(file, Buffer.from([0, 0, 0]))],
    [
      'with a flipped byte in the last record',
      async (file: string) => {
        const bytes = await readFile(file);
        bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0x40;
        await writeFile(file, bytes);
      },
    ],
    [
      'followed by garbage',
      async (file: string) => appendFile(file, Buffer.from('\xff\xff\xff\xffnot a record at all')),
    ],
    [
      'followed by an impossible record length',
      async (file: string) => {
        const header = Buffer.alloc(8);
        header.writeUInt32BE(0x7fffffff, 0);
        await appendFile(file, header);
      },
    ],
    [
      'followed by a well-formed record of the wrong shape',
      async (file: string) => {
        const { crc32 } = await import('node:zlib');
        const payload = Buffer.from(JSON.stringify({ t: 'member', name: 'x', port: 'seven' }));
        const header = Buffer.alloc(8);
        header.writeUInt32BE(payload.length, 0);
        header.writeUInt32BE(crc32(payload), 4);
        await appendFile(file, Buffer.concat([header, payload]));
      },
    ],
  ])('opens a snapshot %s, keeps every good record and cuts the rest off', async (_how, damage) => {
    const file = path.join(dir, 'snap');
    await writeSome(file);
    const goodSize = (await stat(file)).size;
    const { snapshot: before, contents: intact } = await Snapshot.open(file);
    await before.close();
    await damage(file);
    const { logger, records } = recordingLogger();
    const { snapshot, contents } = await Snapshot.open(file, { logger });
    const damagedLast = (await stat(file)).size < goodSize;
    if (!damagedLast) {
      // Only what followed the good records was damaged: everything recorded survives.
      expect(contents.members).toEqual(intact.members);
      expect(contents.records).toBe(intact.records);
    } else {
      // The last record (the forget of d) is lost, so d is back; the rest is intact.
      expect(contents.records).toBe(intact.records - 1);
      expect([...contents.members.keys()].sort()).toEqual(['b', 'c', 'd']);
    }
    expect(contents.discardedBytes).toBeGreaterThan(0);
    expect(records.some((r) => r.level === 'warn' && r.fields.discardedBytes === contents.discardedBytes)).toBe(true);
    // New records follow the good ones, not the garbage: they read back.
    snapshot.recordMember(member('e'));
    await snapshot.close();
    const { snapshot: again, contents: reread } = await Snapshot.open(file);
    await again.close();
    expect(reread.discardedBytes).toBe(0);
    expect(reread.members.get('e')).toEqual(member('e'));
  });

  it('refuses a file that is not a snapshot, and leaves it untouched', async () => {
    const file = path.join(dir, 'notes.txt');
    await writeFile(file, 'my precious notes\n');
    await expect(Snapshot.open(file)).rejects.toMatchObject({ code: 'ERR_NOT_A_SNAPSHOT' });
    expect(await readFile(file, 'utf8')).toBe('my precious notes\n');
  });

  it('starts afresh from an empty file or one torn inside its magic', async () => {
    for (const start of ['', 'CSNA']) {
      const file = path.join(dir, `snap-${start.length}`);
      await writeFile(file, start);
      const { snapshot, contents } = await Snapshot.open(file);
      snapshot.recordMember(member('b'));
      await snapshot.close();
      expect(contents.members.size).toBe(0);
      const { snapshot: again, contents: reread } = await Snapshot.open(file);
      await again.close();
      expect([...reread.members.keys()]).toEqual(['b']);
    }
  });

  it('compacts once it has grown past four times the state it holds, keeping exactly that state', async () => {
    const file = path.join(dir, 'snap');
    const { logger, records } = recordingLogger();
    const { snapshot } = await Snapshot.open(file, { compactBytes: 4096, logger });
    // The live set: a member the cluster has reaped (gone) is dropped at compaction.
    snapshot.setLive(() => ['b', 'c']);
    snapshot.recordMember(member('gone', 'dead'));
    let largest = 0;
    for (let i = 1; i <= 400; i++) {
      snapshot.recordMember(member('b', i % 2 ? 'suspect' : 'alive', i));
      snapshot.recordSelf('me', i);
      if (i % 50 === 0) {
        await snapshot.flush();
        largest = Math.max(largest, (await stat(file)).size);
      }
    }
    snapshot.recordMember(member('c'));
    await snapshot.close();
    // 800 records of ~100 bytes would be ~80 kB; compaction keeps it near the 4 kB threshold.
    expect(largest).toBeLessThan(4096 + 50 * 2 * 120);
    expect((await stat(file)).size).toBeLessThan(4096 + 50 * 2 * 120);
    expect(records.some((r) => r.message === 'snapshot compacted')).toBe(true);
    const { snapshot: again, contents } = await Snapshot.open(file);
    await again.close();
    expect(contents.self).toEqual({ name: 'me', incarnation: 400 });
    expect(contents.members.get('b')).toEqual(member('b', 'alive', 400));
    expect(contents.members.get('c')).toEqual(member('c'));
    expect(contents.members.has('gone')).toBe(false);
  });
});
