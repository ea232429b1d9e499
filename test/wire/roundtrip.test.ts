// Round trips through the native codec: what is encoded decodes to the same message, at the
// edges of every field's range.
import { describe, expect, it } from 'vitest';
import { codec, type Msg, messageTypes, record, samples, U32_MAX, U64_MAX } from './samples';

function roundTrip(messages: Msg[]): Msg[] {
  const decoded = codec.decode(codec.encode(messages));
  expect(decoded.ok, decoded.reason).toBe(true);
  return decoded.messages;
}

const maxName = 'n'.repeat(255);

describe('round trip', () => {
  it.each(messageTypes)('a %s message decodes to what was encoded', (type) => {
    expect(roundTrip([samples[type]])).toEqual([samples[type]]);
  });

  it('every message type together in one compound packet keeps its order and sets the compound flag', () => {
    const all = messageTypes.map((t) => samples[t]);
    const decoded = codec.decode(codec.encode(all));
    expect(decoded).toEqual({ ok: true, flags: 1, messages: all, skippedUnknown: 0 });
  });

  it('a single message is not marked compound', () => {
    expect(codec.decode(codec.encode([samples.ping])).flags).toBe(0);
  });

  it('sequence numbers keep 0 and the u32 maximum', () => {
    for (const seq of [0, 1, 127, 128, 16383, 16384, U32_MAX]) {
      const messages = [
        { type: 'ping', seq, source: 'a', target: 'b' },
        { type: 'ack', seq, source: 'a' },
        { type: 'nack', seq, source: 'a' },
        { ...samples.ping_req, seq },
      ];
      expect(roundTrip(messages)).toEqual(messages);
    }
  });

  it('incarnations keep 0 and the u64 maximum', () => {
    for (const incarnation of [0n, 1n, 2n ** 63n, U64_MAX]) {
      const messages = [
        { type: 'suspect', incarnation, target: 't', from: 'f' },
        { type: 'dead', incarnation, target: 't', from: 'f' },
        { type: 'leave', incarnation, name: 'n' },
        { type: 'alive', member: record({ incarnation }) },
      ];
      expect(roundTrip(messages)).toEqual(messages);
    }
  });

  it('a member record keeps every field at its maximum', () => {
    const member = record({
      name: maxName,
      id: U64_MAX,
      address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      port: 65535,
      state: 'left',
      incarnation: U64_MAX,
      versions: { min: 255, max: 255, current: 255 },
      resources: {
        maxInstances: U32_MAX,
        currentInstances: U32_MAX,
        cpuTotalMilli: U32_MAX,
        cpuAvailableMilli: U32_MAX,
        ramTotalMb: U64_MAX,
        ramAvailableMb: U64_MAX,
      },
    });
    expect(roundTrip([{ type: 'alive', member }])).toEqual([{ type: 'alive', member }]);
  });

  it('a member record keeps every field at zero', () => {
    const member = record({
      name: 'z',
      id: 0n,
      address: '0.0.0.0',
      port: 0,
      incarnation: 0n,
      versions: { min: 0, max: 0, current: 0 },
      resources: {
        maxInstances: 0,
        currentInstances: 0,
        cpuTotalMilli: 0,
        cpuAvailableMilli: 0,
        ramTotalMb: 0n,
        ramAvailableMb: 0n,
      },
      tags: {},
    });
    expect(roundTrip([{ type: 'alive', member }])).toEqual([{ type: 'alive', member }]);
  });

  it.each(['alive', 'suspect', 'dead', 'left'])('the member state %s survives', (state) => {
    const message = { type: 'alive', member: record({ state }) };
    expect(roundTrip([message])).toEqual([message]);
  });

  it('IPv6 and IPv4 addresses survive, in members and in indirect probes', () => {
    for (const address of ['::', '::1', '2001:db8::ff00:42:8329', 'fe80::1', '255.255.255.255', '127.0.0.1']) {
      const messages = [
        { type: 'alive', member: record({ address }) },
        { ...samples.ping_req, targetAddress: address },
      ];
      expect(roundTrip(messages)).toEqual(messages);
    }
  });

  it('names of 1 and 255 bytes survive, counted in UTF-8 bytes', () => {
    const multibyte = 'é'.repeat(127); // 254 bytes
    for (const name of ['x', maxName, multibyte]) {
      const messages = [
        { type: 'ping', seq: 1, source: name, target: name },
        { type: 'suspect', incarnation: 1n, target: name, from: name },
        { type: 'leave', incarnation: 1n, name },
      ];
      expect(roundTrip(messages)).toEqual(messages);
    }
  });

  it('empty tag values, empty tag maps and empty user payloads survive', () => {
    const messages = [
      { type: 'alive', member: record({ tags: { empty: '' } }) },
      { type: 'alive', member: record({ tags: {} }) },
      { type: 'user', userType: 0xff, payload: Buffer.alloc(0) },
    ];
    expect(roundTrip(messages)).toEqual(messages);
  });

  it('want_nack and join keep both values', () => {
    const messages = [
      { ...samples.ping_req, wantNack: false },
      { ...samples.ping_req, wantNack: true },
      { type: 'sync_request', join: false, members: [] },
      { type: 'sync_response', join: true, members: [] },
    ];
    expect(roundTrip(messages)).toEqual(messages);
  });

  it('a record filled with tags to exactly the record limit decodes, and one byte more is oversize', () => {
    const limit = 1024;
    const tags: Record<string, string> = {};
    let i = 0;
    while (codec.encodedRecordSize(record({ tags })) + 80 < limit) tags[`key-${i++}`] = 'v'.repeat(30);
    // Pad the last value so the record is exactly at the limit.
    const short = limit - codec.encodedRecordSize(record({ tags: { ...tags, pad: '' } }));
    const full = record({ tags: { ...tags, pad: 'p'.repeat(short) } });
    expect(codec.encodedRecordSize(full)).toBe(limit);
    expect(roundTrip([{ type: 'alive', member: full }])).toEqual([{ type: 'alive', member: full }]);
    expect(codec.decode(codec.encode([{ type: 'sync_response', join: false, members: [full, full] }])).ok).toBe(true);

    const over = record({ tags: { ...tags, pad: 'p'.repeat(short + 1) } });
    expect(codec.encodedRecordSize(over)).toBe(limit + 1);
    expect(codec.decode(codec.encode([{ type: 'alive', member: over }]))).toEqual({ ok: false, reason: 'oversize' });
    expect(
      codec.decode(codec.encode([{ type: 'alive', member: over }]), { maxRecordBytes: limit + 1 }).messages[0].member,
    ).toEqual(over);
  });

  it('the encoded size the codec reports is the number of bytes it writes', () => {
    for (const type of messageTypes) {
      expect(codec.encode([samples[type]]).length, type).toBe(6 + codec.encodedSize(samples[type]));
    }
  });

  it('user messages keep their type byte and payload bytes', () => {
    const payload = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
    for (const userType of [0x80, 0xab, 0xff]) {
      expect(roundTrip([{ type: 'user', userType, payload }])).toEqual([{ type: 'user', userType, payload }]);
    }
  });

  it('numbers are accepted for u64 fields and come back as BigInt', () => {
    const [decoded] = roundTrip([{ type: 'leave', incarnation: 5, name: 'n' }]);
    expect(decoded).toEqual({ type: 'leave', incarnation: 5n, name: 'n' });
  });

  it('a sync response carries many members', () => {
    const members = Array.from({ length: 500 }, (_, i) => record({ name: `m-${i}`, id: BigInt(i) }));
    const decoded = codec.decode(codec.encode([{ type: 'sync_response', join: false, members }]));
    expect(decoded.messages[0].members).toEqual(members);
  });
});

describe('packing to the MTU', () => {
  const ping = (n: number) => ({ type: 'ping', seq: n, source: 'source-node', target: `target-${n}` });

  it('fills a compound packet to exactly the MTU and refuses the message that does not fit', () => {
    const messages = Array.from({ length: 9 }, (_, i) => ping(i));
    const mtu = 6 + messages.slice(0, 8).reduce((sum, m) => sum + codec.encodedSize(m), 0);
    const { packet, accepted } = codec.packMtu(messages, mtu);
    expect(packet.length).toBe(mtu);
    expect(accepted).toEqual([true, true, true, true, true, true, true, true, false]);
    expect(codec.decode(packet)).toEqual({ ok: true, flags: 1, messages: messages.slice(0, 8), skippedUnknown: 0 });
  });

  it('still takes a smaller message after refusing a larger one', () => {
    const big = { type: 'alive', member: record() };
    const mtu = 6 + codec.encodedSize(ping(1)) + codec.encodedSize(ping(2));
    const { packet, accepted } = codec.packMtu([ping(1), big, ping(2)], mtu);
    expect(accepted).toEqual([true, false, true]);
    expect(packet.length).toBe(mtu);
  });

  it('packs with the default 1400-byte MTU as the design sets it', () => {
    const messages = Array.from({ length: 200 }, (_, i) => ping(i));
    const { packet, accepted } = codec.packMtu(messages, 1400);
    expect(packet.length).toBeLessThanOrEqual(1400);
    expect(packet.length).toBeGreaterThan(1400 - codec.encodedSize(ping(199)));
    const count = accepted.filter(Boolean).length;
    expect(codec.decode(packet).messages).toEqual(messages.slice(0, count));
  });

  it('a message larger than the MTU is refused and leaves no packet', () => {
    const { packet, accepted } = codec.packMtu([{ type: 'alive', member: record() }], 40);
    expect(accepted).toEqual([false]);
    expect(packet.length).toBe(0);
  });

  it('one message alone is not marked compound', () => {
    const { packet } = codec.packMtu([ping(1)], 1400);
    expect(codec.decode(packet).flags).toBe(0);
  });
});

describe('stream frames', () => {
  it('a framed sync response decodes and reports the bytes it used', () => {
    const frame = codec.encodeFrame(samples.sync_response);
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
    expect(codec.decodeFrame(frame)).toEqual({
      ok: true,
      flags: 0,
      messages: [samples.sync_response],
      skippedUnknown: 0,
      frameBytes: frame.length,
    });
  });

  it('a frame followed by the next one decodes only its own bytes', () => {
    const first = codec.encodeFrame(samples.sync_request);
    const both = Buffer.concat([first, codec.encodeFrame(samples.ping)]);
    const decoded = codec.decodeFrame(both);
    expect(decoded.messages).toEqual([samples.sync_request]);
    expect(codec.decodeFrame(both.subarray(decoded.frameBytes)).messages).toEqual([samples.ping]);
  });
});
