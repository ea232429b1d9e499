// Table cost: one member in an engine's table must cost at most 200 bytes (tags aside), so the
// simulator can hold 10,000 engines of 10,000 members.
import { expect, it } from 'vitest';
import { alive, codec, engineModule, TestEngine } from './harness';

it('a member table entry is 40 bytes, the record itself being shared', () => {
  expect(engineModule.memberEntryBytes).toBe(40);
});

it('an engine of 10,000 members uses under 200 bytes per member (records excluded: pooled)', () => {
  const a = new TestEngine('a');
  a.tick(0);
  const members = Array.from(
    { length: 10000 },
    (_, i) => alive(`member-${i}`, 0n, { address: `10.1.${i >> 8}.${i & 255}` }).member,
  );
  const frame = codec.encodeFrame({ type: 'sync_request', join: false, members });
  a.native.serveStream('10.200.0.1', 7946, frame, 1);
  a.drain();
  expect(a.native.count('alive')).toBe(10001);
  const perMember = a.native.memoryBytes() / 10001;
  expect(perMember).toBeLessThan(200);
  expect(perMember).toBeGreaterThan(40);
});
