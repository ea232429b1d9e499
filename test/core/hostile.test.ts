// Hostile and broken input: malformed datagrams are counted by reason and dropped, never
// fatal; tables and queues stay bounded whatever peers send.
import { describe, expect, it } from 'vitest';
import { alive, codec, TestEngine } from './harness';

function engine(config: Record<string, number | boolean> = {}): TestEngine {
  const a = new TestEngine('a', { config });
  a.tick(0);
  a.learn(['b', 'c'], 0);
  return a;
}

describe('malformed datagrams', () => {
  it('are dropped and counted by decode error reason, with no output', () => {
    const a = engine();
    const good = codec.encode([{ type: 'ping', seq: 1, source: 'b', target: 'a' }]);
    const badMagic = Buffer.from(good);
    badMagic[0] = 0x58;
    const badVersion = Buffer.from(good);
    badVersion[4] = 99;
    const badFlags = Buffer.from(good);
    badFlags[5] = 0x80;
    a.receiveBytes('b', badMagic, 1);
    a.receiveBytes('b', badVersion, 1);
    a.receiveBytes('b', good.subarray(0, good.length - 2), 1);
    a.receiveBytes('b', badFlags, 1);
    a.receiveBytes('b', Buffer.alloc(0), 1);
    expect(a.drain()).toEqual({ datagrams: [], streams: [], events: [] });
    expect(a.counters().rejected).toMatchObject({ bad_magic: 1, bad_version: 1, truncated: 2, bad_field: 1 });
    // Still working afterwards.
    a.receiveBytes('b', good, 2);
    expect(a.drain().datagrams[0]?.messages[0]).toMatchObject({ type: 'ack', seq: 1 });
  });

  it('a record above maxRecordBytes is rejected as oversize', () => {
    const a = engine({ maxRecordBytes: 256 });
    a.receive('x', [alive('x', 0n, { tags: { blob: 'y'.repeat(400) } })], 1);
    expect(a.counters().rejected.oversize).toBe(1);
    expect(a.native.member('x')).toBeNull();
  });

  it('unknown message types are skipped and counted; the known ones in the packet still count', () => {
    const a = engine();
    const bytes = codec.encode([
      { type: 'user', userType: 0x91, payload: Buffer.from('future') },
      { type: 'ping', seq: 5, source: 'b', target: 'a' },
    ]);
    a.receiveBytes('b', bytes, 1);
    expect(a.drain().datagrams[0]?.messages[0]).toMatchObject({ type: 'ack', seq: 5 });
    expect(a.counters().unknownMessages + a.counters().ignoredMessages).toBe(1);
  });

  it('SYNC messages arriving over UDP are ignored', () => {
    const a = engine();
    a.receive('x', [{ type: 'sync_request', join: true, members: [alive('x').member] }], 1);
    expect(a.native.member('x')).toBeNull();
    expect(a.counters().ignoredMessages).toBe(1);
  });

  it('random bytes never crash the engine', () => {
    const a = engine();
    let x = 12345;
    const rand = () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x;
    };
    const good = codec.encode([alive('q', 3n), { type: 'suspect', incarnation: 1n, target: 'b', from: 'q' }]);
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.from(good);
      for (let flips = 1 + (rand() % 4); flips > 0; flips--) bytes[rand() % bytes.length] = rand() & 0xff;
      a.receiveBytes('b', bytes, 10 + i);
      a.tick(10 + i);
      a.drain();
    }
    const rejected = Object.values(a.counters().rejected).reduce((s, v) => s + v, 0);
    expect(rejected).toBeGreaterThan(0);
    expect(a.counters().packetsIn).toBe(3000 + 1);
  });
});

describe('bounds', () => {
  it('the member table stops at maxMembers; further newcomers are refused and counted', () => {
    const a = engine({ maxMembers: 20 });
    for (let i = 0; i < 50; i++) a.receive('b', [alive(`flood${i}`, 0n)], 1);
    expect(a.native.members()).toHaveLength(20);
    expect(a.counters().membersRefused).toBe(33);
  });

  it('pending stream requests are capped, however many reconnect targets exist', () => {
    const a = engine({ reconnectIntervalMs: 1000, pushPullIntervalMs: 1000 });
    const seeds = Array.from({ length: 200 }, (_, i) => ({ address: `10.9.${i >> 8}.${i & 255}`, port: 7946 }));
    a.native.join(seeds, 1);
    expect(a.drain().streams.length).toBeLessThanOrEqual(64);
    const out = a.runUntil(1, 5000);
    expect(out.streams).toEqual([]);
  });
});
