// Table cost: one member in an engine's table must cost at most 200 bytes (tags aside), so the
// simulator can hold 10,000 engines of 10,000 members.
import { expect, it } from 'vitest';
import { alive, codec, engineModule, leave, TestEngine } from './harness';

// An engine that has just served a SYNC from a peer naming 10,000 members it did not know.
function serveTenThousand(): TestEngine {
  const a = new TestEngine('a');
  a.tick(0);
  const members = Array.from(
    { length: 10000 },
    (_, i) => alive(`member-${i}`, 0n, { address: `10.1.${i >> 8}.${i & 255}` }).member,
  );
  const frame = codec.encodeFrame({ type: 'sync_request', join: false, members });
  a.native.serveStream('10.200.0.1', 7946, frame, 1);
  return a;
}

it('a member table entry is 32 bytes, the record itself being shared', () => {
  expect(engineModule.memberEntryBytes).toBe(32);
});

it('an engine of 10,000 members uses under 200 bytes per member (records excluded: pooled)', () => {
  const a = serveTenThousand();
  a.drain();
  expect(a.native.count('alive')).toBe(10001);
  const perMember = a.native.memoryBytes() / 10001;
  expect(perMember).toBeLessThan(200);
  expect(perMember).toBeGreaterThan(40);
});

it('sending its whole table keeps no per-member scratch (40 bytes a member in every engine)', () => {
  // Serving the SYNC encoded the whole table through a list of 40-byte entries (record, state,
  // incarnation, encoded ALIVE); kept afterwards, it cost 10,000 simulated engines 4 GB. This
  // engine grew its table without a reserve (room for 16,384), so a member costs 76 bytes
  // here, and 116 with the scratch kept.
  const a = serveTenThousand();
  a.drain();
  expect(a.native.memoryBytes() / 10001).toBeLessThan(96);
});

it('records no table entry or event holds any more are released from the pool', () => {
  const a = new TestEngine('a', { config: { deadReapMs: 1000, leftReapMs: 1000 } });
  a.tick(0);
  for (let inc = 0n; inc < 3n; inc++) {
    a.learn(
      Array.from({ length: 20 }, (_, i) => `m${i}`),
      Number(inc) + 1,
      inc,
    );
  }
  // Ourselves plus the latest record of each of the 20: older incarnations are gone.
  expect(a.native.poolRecords()).toBe(21);
  a.receive(
    'm0',
    Array.from({ length: 20 }, (_, i) => leave(`m${i}`, 2n)),
    10,
  );
  a.drain();
  a.runUntil(10, 3000);
  expect(a.native.members()).toHaveLength(1);
  expect(a.native.poolRecords()).toBe(1);
});

it('draining the outputs gives back the room a burst of events took', () => {
  // A join learns the whole cluster in one call: one event per member. Kept at that high-water
  // mark, 10,000 simulated engines would each hold room for 10,000 events they no longer have.
  const a = serveTenThousand();
  const withEvents = a.native.memoryBytes();
  expect(a.drain().events).toHaveLength(10000);
  // An event is at least 32 bytes (kind, state, incarnation, record pointer, time).
  expect(withEvents - a.native.memoryBytes()).toBeGreaterThanOrEqual(10000 * 32);
});
