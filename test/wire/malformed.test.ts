// Malformed input: whatever arrives, the decoder answers with a message list or one of its
// typed reasons, never reads past the end and never crashes the process.
import { describe, expect, it } from 'vitest';
import {
  bodyOf,
  codec,
  decodeReasons,
  fixturePath,
  frameMessage,
  header,
  messageTypes,
  packet,
  prng,
  readHex,
  record,
  samples,
  str,
  varint,
} from './samples';

const T = { ping: 1, ack: 2, pingReq: 3, nack: 4, alive: 5, suspect: 6, dead: 7, leave: 8, syncReq: 9, syncResp: 10 };

/**
 * A member record built byte by byte from docs/wire.md's table, independently of the codec,
 * so a test can put any one field out of range.
 */
function rawRecord(fields: Partial<Record<string, number[]>> = {}): number[] {
  const f = {
    name: str('raw-node'),
    id: [0, 0, 0, 0, 0, 0, 0x01, 0x02],
    address: [4, 10, 0, 0, 1],
    port: [0x1f, 0x0a],
    state: [0],
    incarnation: varint(5),
    versions: [1, 1, 1],
    resources: [...varint(16), ...varint(3), ...varint(8000), ...varint(5250), ...varint(32768), ...varint(20480)],
    tags: [1, ...str('zone'), ...str('a')],
    ...fields,
  };
  return [
    ...f.name,
    ...f.id,
    ...f.address,
    ...f.port,
    ...f.state,
    ...f.incarnation,
    ...f.versions,
    ...f.resources,
    ...f.tags,
  ] as number[];
}

const rawMember = record({
  name: 'raw-node',
  id: 0x0102n,
  address: '10.0.0.1',
  port: 7946,
  incarnation: 5n,
  tags: { zone: 'a' },
});

function reason(bytes: Buffer | number[], options?: object): string {
  const result = codec.decode(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), options);
  return result.ok ? 'ok' : result.reason;
}

describe('the hand-built layout of docs/wire.md', () => {
  it('matches what the codec writes for a member record', () => {
    expect(rawRecord()).toEqual(bodyOf({ type: 'alive', member: rawMember }));
    expect(codec.decode(packet(frameMessage(T.alive, rawRecord()))).messages).toEqual([
      { type: 'alive', member: rawMember },
    ]);
  });

  it('matches what the codec writes for a ping', () => {
    const ping = { type: 'ping', seq: 300, source: 'a', target: 'bc' };
    expect(codec.encode([ping])).toEqual(packet(frameMessage(T.ping, [...varint(300), ...str('a'), ...str('bc')])));
  });
});

describe('truncation', () => {
  it.each(messageTypes)('the %s fixture cut at every offset is rejected as truncated', (type) => {
    const bytes = readHex(fixturePath(type));
    for (let end = 0; end < bytes.length; end++) {
      expect(reason(bytes.subarray(0, end)), `${type} cut at ${end}`).toBe('truncated');
    }
  });

  it('a header with no message after it is truncated', () => {
    expect(reason(header())).toBe('truncated');
  });

  it('a body length longer than the rest of the packet is truncated', () => {
    const body = bodyOf(samples.ping);
    expect(reason([...header(), T.ping, body.length + 1, ...body])).toBe('truncated');
    expect(reason([...header(), T.ping, ...varint(2n ** 63n), ...body])).toBe('truncated');
  });

  it('a varint that runs off the end of its body is truncated', () => {
    expect(reason(packet(frameMessage(T.ping, [0x80, 0x80])))).toBe('truncated');
    expect(reason([...header(), T.ping, 0x80])).toBe('truncated');
  });

  it('a field cut short inside an honest body length is truncated', () => {
    const body = bodyOf(samples.ping);
    expect(reason(packet(frameMessage(T.ping, body.slice(0, -1))))).toBe('truncated');
    expect(reason(packet(frameMessage(T.alive, rawRecord().slice(0, 12))))).toBe('truncated');
  });

  it('a tag count larger than the bytes left could hold is refused before anything is allocated', () => {
    const tags = [...varint(2n ** 40n), ...str('zone'), ...str('a')];
    expect(reason(packet(frameMessage(T.alive, rawRecord({ tags }))))).toBe('truncated');
  });

  it('a member count larger than the bytes left could hold is refused before anything is allocated', () => {
    expect(reason(packet(frameMessage(T.syncResp, [0, ...varint(2n ** 60n), ...rawRecord()])))).toBe('truncated');
    expect(reason(packet(frameMessage(T.syncReq, [1, 2, ...rawRecord()])))).toBe('truncated');
  });
});

describe('the header', () => {
  it('a packet not starting with RADS is bad_magic', () => {
    expect(reason(Buffer.from('RADX\x01\x00', 'latin1'))).toBe('bad_magic');
    expect(reason([0x53, 0x44, 0x41, 0x52, 1, 0, ...frameMessage(T.ping, bodyOf(samples.ping))])).toBe('bad_magic');
    expect(reason([0x00])).toBe('bad_magic');
    expect(reason(Buffer.from('GET / HTTP/1.1\r\n', 'latin1'))).toBe('bad_magic');
  });

  it('a protocol version other than 1 is bad_version', () => {
    const body = frameMessage(T.ping, bodyOf(samples.ping));
    expect(reason([...header(0, 0), ...body])).toBe('bad_version');
    expect(reason([...header(0, 2), ...body])).toBe('bad_version');
    expect(reason([...header(0, 255), ...body])).toBe('bad_version');
  });

  it('unknown flag bits are bad_field', () => {
    const body = frameMessage(T.ping, bodyOf(samples.ping));
    for (const flags of [0x04, 0x08, 0x80, 0xfd])
      expect(reason([...header(flags), ...body]), `${flags}`).toBe('bad_field');
  });

  it('an encrypted packet is refused until the envelope layer has opened it', () => {
    expect(reason([...header(0x02), ...frameMessage(T.ping, bodyOf(samples.ping))])).toBe('bad_field');
  });

  it('a compound packet decodes whether or not the compound flag is set', () => {
    const two = [...frameMessage(T.ping, bodyOf(samples.ping)), ...frameMessage(T.ack, bodyOf(samples.ack))];
    expect(codec.decode(Buffer.from([...header(0), ...two])).messages).toEqual([samples.ping, samples.ack]);
    expect(codec.decode(Buffer.from([...header(1), ...two])).messages).toEqual([samples.ping, samples.ack]);
  });
});

describe('out-of-range fields', () => {
  it('a member state above 3 is bad_field', () => {
    expect(reason(packet(frameMessage(T.alive, rawRecord({ state: [3] }))))).toBe('ok');
    expect(reason(packet(frameMessage(T.alive, rawRecord({ state: [4] }))))).toBe('bad_field');
    expect(reason(packet(frameMessage(T.alive, rawRecord({ state: [0xff] }))))).toBe('bad_field');
  });

  it('an address family other than 4 or 6 is bad_field', () => {
    for (const family of [0, 5, 10, 0xff]) {
      const address = [family, ...new Array(16).fill(0)];
      expect(reason(packet(frameMessage(T.alive, rawRecord({ address })))), `${family}`).toBe('bad_field');
    }
    const v6 = [6, ...new Array(15).fill(0), 1];
    expect(codec.decode(packet(frameMessage(T.alive, rawRecord({ address: v6 })))).messages[0].member.address).toBe(
      '::1',
    );
  });

  it('want_nack and join other than 0 or 1 are bad_field', () => {
    const pingReq = bodyOf(samples.ping_req);
    expect(reason(packet(frameMessage(T.pingReq, [...pingReq.slice(0, -1), 2])))).toBe('bad_field');
    expect(reason(packet(frameMessage(T.syncReq, [2, 0])))).toBe('bad_field');
    expect(reason(packet(frameMessage(T.syncResp, [1, 0])))).toBe('ok');
  });

  it('message type 0 is bad_field', () => {
    expect(reason(packet(frameMessage(0, [])))).toBe('bad_field');
  });

  it('an empty name or tag key is bad_field', () => {
    expect(reason(packet(frameMessage(T.ping, [1, 0, ...str('b')])))).toBe('bad_field');
    expect(reason(packet(frameMessage(T.leave, [1, 0])))).toBe('bad_field');
    expect(reason(packet(frameMessage(T.alive, rawRecord({ name: [0] }))))).toBe('bad_field');
    expect(reason(packet(frameMessage(T.alive, rawRecord({ tags: [1, 0, 0, 0] }))))).toBe('bad_field');
    const empty = codec.encode([{ type: 'suspect', incarnation: 1n, target: 't', from: '' }], { validate: false });
    expect(reason(empty)).toBe('bad_field');
  });

  it('an overlong varint (a trailing zero group) is bad_field', () => {
    expect(reason(packet(frameMessage(T.ping, [0x81, 0x00, ...str('a'), ...str('b')])))).toBe('bad_field');
    expect(reason(packet(frameMessage(T.leave, [0x80, 0x80, 0x00, ...str('a')])))).toBe('bad_field');
    expect(reason([...header(), T.ping, 0x8b, 0x00, ...bodyOf({ ...samples.ping, seq: 1 })])).toBe('bad_field');
  });

  it('a varint too large for its field is bad_field', () => {
    // seq is u32: 2^32 needs a fifth group of 0x10.
    expect(reason(packet(frameMessage(T.ping, [...varint(2n ** 32n), ...str('a'), ...str('b')])))).toBe('bad_field');
    expect(reason(packet(frameMessage(T.ping, [...varint(2n ** 32n - 1n), ...str('a'), ...str('b')])))).toBe('ok');
    // incarnation is u64: an eleventh group, or bit 64 in the tenth.
    const tooLong = [...new Array(10).fill(0xff), 0x01];
    expect(reason(packet(frameMessage(T.leave, [...tooLong, ...str('a')])))).toBe('bad_field');
    const bit64 = [...new Array(9).fill(0xff), 0x02];
    expect(reason(packet(frameMessage(T.leave, [...bit64, ...str('a')])))).toBe('bad_field');
    const resources = [...varint(2n ** 32n), 0, 0, 0, 0, 0];
    expect(reason(packet(frameMessage(T.alive, rawRecord({ resources }))))).toBe('bad_field');
  });
});

describe('oversized lengths', () => {
  it('a name longer than 255 bytes is oversize', () => {
    const long = 'n'.repeat(256);
    const encode = (m: object) => codec.encode([m], { validate: false });
    expect(reason(encode({ type: 'ping', seq: 1, source: long, target: 'b' }))).toBe('oversize');
    expect(reason(encode({ type: 'leave', incarnation: 1n, name: long }))).toBe('oversize');
    expect(reason(encode({ type: 'alive', member: record({ name: long }) }))).toBe('oversize');
  });

  it('a tag key longer than 255 bytes is oversize', () => {
    const tags = [1, ...str('k'.repeat(256)), ...str('v')];
    expect(reason(packet(frameMessage(T.alive, rawRecord({ tags }))))).toBe('oversize');
  });

  it('a record over the configured limit is oversize, however its length is spread', () => {
    const bigValue = [1, ...str('k'), ...str('v'.repeat(400))];
    const bytes = packet(frameMessage(T.alive, rawRecord({ tags: bigValue })));
    expect(reason(bytes)).toBe('ok');
    expect(reason(bytes, { maxRecordBytes: 200 })).toBe('oversize');
    const manyTags: number[] = [20];
    for (let i = 0; i < 20; i++) manyTags.push(...str(`key-${i}`), ...str('value-value'));
    const spread = packet(frameMessage(T.alive, rawRecord({ tags: manyTags })));
    expect(reason(spread, { maxRecordBytes: 200 })).toBe('oversize');
    expect(reason(spread, { maxRecordBytes: 600 })).toBe('ok');
  });

  it('a tag value claiming more than the record limit is oversize even when the bytes are missing', () => {
    const tags = [1, ...str('k'), ...varint(5000)];
    expect(reason(packet(frameMessage(T.alive, rawRecord({ tags }))))).toBe('oversize');
  });

  it('one oversized member fails a whole sync response', () => {
    const members = [record(), record({ tags: { big: 'x'.repeat(2000) } })];
    expect(reason(codec.encode([{ type: 'sync_response', join: false, members }]))).toBe('oversize');
  });
});

describe('unknown and extended messages', () => {
  it('message types this build does not know are skipped and counted', () => {
    const bytes = codec.encode(
      [
        samples.ping,
        { type: 'user', userType: 11, payload: Buffer.from([1, 2, 3]) },
        samples.ack,
        { type: 'user', userType: 0x7f, payload: Buffer.alloc(0) },
      ],
      { validate: false },
    );
    expect(codec.decode(bytes)).toEqual({
      ok: true,
      flags: 1,
      messages: [samples.ping, samples.ack],
      skippedUnknown: 2,
    });
  });

  it('a packet holding only unknown types is valid and empty', () => {
    const bytes = packet(frameMessage(0x42, [9, 9, 9]));
    expect(codec.decode(bytes)).toEqual({ ok: true, flags: 0, messages: [], skippedUnknown: 1 });
  });

  it('bytes after the known fields of a message are ignored, as a later version may append fields', () => {
    for (const type of messageTypes) {
      // A sync_request's have-filter is itself an appended field, present or absent: bytes
      // after its members are that field. The sync_pull sample has it; what follows is ignored.
      if (type === 'sync_request') continue;
      const body = [...bodyOf(samples[type]), 0xde, 0xad, 0xbe, 0xef];
      const typeByte = codec.encode([samples[type]])[6];
      const decoded = codec.decode(packet(frameMessage(typeByte, body), frameMessage(T.ack, bodyOf(samples.ack))));
      const expected = type === 'user' ? { ...samples.user, payload: Buffer.from(body) } : samples[type];
      expect(decoded.messages, type).toEqual([expected, samples.ack]);
    }
  });
});

describe('the have-filter of a sync_request', () => {
  const members = bodyOf({ type: 'sync_request', join: false, members: [] });
  const withFilter = (hashes: number, size: number[], bits: number[]) => [
    ...members,
    ...[1, 2, 3, 4, 5, 6, 7, 8],
    hashes,
    ...size,
    ...bits,
  ];
  const decode = (body: number[]) => codec.decode(packet(frameMessage(T.syncReq, body)));

  it('decodes salt, hash count and bits after the members', () => {
    const decoded = decode(withFilter(3, varint(2), [0xaa, 0x55]));
    expect(decoded.ok).toBe(true);
    expect(decoded.messages[0].have).toEqual({ salt: 0x0102030405060708n, hashes: 3, bits: Buffer.from([0xaa, 0x55]) });
  });

  it('a hash count of 0 or above 16, or no bits, is bad_field', () => {
    expect(decode(withFilter(0, varint(1), [1])).reason).toBe('bad_field');
    expect(decode(withFilter(17, varint(1), [1])).reason).toBe('bad_field');
    expect(decode(withFilter(16, varint(1), [1])).ok).toBe(true);
    expect(decode(withFilter(3, varint(0), [])).reason).toBe('bad_field');
  });

  it('more than 1 MiB of bits is oversize, before the bytes are needed', () => {
    expect(decode(withFilter(3, varint(1024 * 1024 + 1), [1])).reason).toBe('oversize');
  });

  it('bits, salt or hash count cut short are truncated', () => {
    expect(decode(withFilter(3, varint(4), [1, 2])).reason).toBe('truncated');
    expect(decode([...members, 1, 2, 3])).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decode([...members, 1, 2, 3, 4, 5, 6, 7, 8])).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('the encoder refuses a filter the decoder would refuse', () => {
    const pull = (have: Record<string, unknown>) => ({ type: 'sync_request', join: false, members: [], have });
    expect(() => codec.encode([pull({ salt: 1n, hashes: 0, bits: Buffer.from([1]) })])).toThrow(/have\.hashes/);
    expect(() => codec.encode([pull({ salt: 1n, hashes: 17, bits: Buffer.from([1]) })])).toThrow(/have\.hashes/);
    expect(() => codec.encode([pull({ salt: 1n, hashes: 3, bits: Buffer.alloc(0) })])).toThrow(/have\.bits/);
  });
});

describe('frames', () => {
  const frame = () => codec.encodeFrame(samples.ping);

  it('fewer than four bytes, or a zero length, is truncated', () => {
    for (let end = 0; end < 4; end++) expect(codec.decodeFrame(frame().subarray(0, end)).reason).toBe('truncated');
    expect(codec.decodeFrame(Buffer.from([0, 0, 0, 0])).reason).toBe('truncated');
  });

  it('a frame cut anywhere before its end is truncated', () => {
    const bytes = codec.encodeFrame(samples.sync_request);
    for (let end = 0; end < bytes.length; end++) {
      expect(codec.decodeFrame(bytes.subarray(0, end)).reason, `cut at ${end}`).toBe('truncated');
    }
  });

  it('a length above the stream limit is oversize, before any of it has arrived', () => {
    expect(codec.decodeFrame(Buffer.from([0xff, 0xff, 0xff, 0xff])).reason).toBe('oversize');
    expect(codec.decodeFrame(Buffer.from([0x04, 0x00, 0x00, 0x01])).reason).toBe('oversize'); // 64 MiB + 1
    const bytes = frame();
    expect(codec.decodeFrame(bytes, { maxFrameBytes: bytes.length - 4 }).ok).toBe(true);
    expect(codec.decodeFrame(bytes, { maxFrameBytes: bytes.length - 5 }).reason).toBe('oversize');
  });

  it('a frame whose packet is malformed reports the packet reason', () => {
    const bytes = frame();
    bytes[4] = 0x00;
    expect(codec.decodeFrame(bytes).reason).toBe('bad_magic');
  });
});

describe('random corruption', () => {
  it('bit flips in every fixture decode or fail with a known reason (seeded, 2000 per fixture)', () => {
    const random = prng(0xc0de);
    const seen = new Set<string>();
    for (const type of messageTypes) {
      const original = readHex(fixturePath(type));
      for (let round = 0; round < 2000; round++) {
        const bytes = Buffer.from(original);
        const flips = 1 + Math.floor(random() * 3);
        for (let i = 0; i < flips; i++) {
          const at = Math.floor(random() * bytes.length);
          bytes.writeUInt8(bytes.readUInt8(at) ^ (1 << Math.floor(random() * 8)), at);
        }
        const result = codec.decode(bytes, { maxRecordBytes: 64 + Math.floor(random() * 1024) });
        if (result.ok) {
          expect(Array.isArray(result.messages)).toBe(true);
          seen.add('ok');
        } else {
          expect(decodeReasons).toContain(result.reason);
          seen.add(result.reason);
        }
      }
    }
    // The flips must reach both outcomes and several reasons, or the test proves little.
    expect(seen.has('ok')).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });

  it('random bytes after a valid header decode or fail with a known reason (seeded)', () => {
    const random = prng(7);
    for (let round = 0; round < 5000; round++) {
      const length = Math.floor(random() * 200);
      const body = Array.from({ length }, () => {
        const r = random();
        // Bias towards small values so type bytes and lengths are often plausible.
        return r < 0.5 ? Math.floor(random() * 12) : Math.floor(random() * 256);
      });
      const result = codec.decode(Buffer.from([...header(random() < 0.5 ? 1 : 0), ...body]));
      if (!result.ok) expect(decodeReasons).toContain(result.reason);
    }
  });
});
