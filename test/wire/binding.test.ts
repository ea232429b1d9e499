// The JavaScript face of the codec: bad input is a TypeError that names the field, never a
// crash and never a silently wrong packet.
import { describe, expect, it } from 'vitest';
import { codec, type Msg, record, samples } from './samples';

function encodeError(message: Msg): string {
  try {
    codec.encode([message]);
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as Error).message;
  }
  throw new Error('encode accepted bad input');
}

describe('codec binding input checks', () => {
  it.each([
    ['messages[0].seq', { ...samples.ping, seq: -1 }, /messages\[0\]\.seq/],
    ['messages[0].seq', { ...samples.ping, seq: 2 ** 32 }, /messages\[0\]\.seq/],
    ['messages[0].seq', { ...samples.ping, seq: 1.5 }, /messages\[0\]\.seq/],
    ['messages[0].seq', { ...samples.ping, seq: '1' }, /messages\[0\]\.seq/],
    ['messages[0].source', { ...samples.ping, source: undefined }, /messages\[0\]\.source must be a string/],
    ['messages[0].target', { ...samples.ping, target: '' }, /messages\[0\]\.target must be 1\.\.255 bytes/],
    [
      'messages[0].target',
      { ...samples.ping, target: 'x'.repeat(256) },
      /messages\[0\]\.target must be 1\.\.255 bytes/,
    ],
    ['messages[0].incarnation', { ...samples.suspect, incarnation: -1n }, /messages\[0\]\.incarnation/],
    ['messages[0].incarnation', { ...samples.suspect, incarnation: 2n ** 64n }, /messages\[0\]\.incarnation/],
    ['messages[0].incarnation', { ...samples.suspect, incarnation: 2 ** 60 }, /messages\[0\]\.incarnation/],
    ['messages[0].targetAddress', { ...samples.ping_req, targetAddress: '10.0.0.256' }, /messages\[0\]\.targetAddress/],
    ['messages[0].targetPort', { ...samples.ping_req, targetPort: 65536 }, /messages\[0\]\.targetPort/],
    ['messages[0].wantNack', { ...samples.ping_req, wantNack: 1 }, /messages\[0\]\.wantNack must be a boolean/],
    ['messages[0].member.state', { type: 'alive', member: record({ state: 'gone' }) }, /messages\[0\]\.member\.state/],
    [
      'messages[0].member.address',
      { type: 'alive', member: record({ address: 'localhost' }) },
      /messages\[0\]\.member\.address/,
    ],
    ['messages[0].member.id', { type: 'alive', member: record({ id: 'abc' }) }, /messages\[0\]\.member\.id/],
    [
      'member.versions.max',
      { type: 'alive', member: record({ versions: { min: 1, max: 256, current: 1 } }) },
      /member\.versions\.max/,
    ],
    [
      'member.resources.cpuTotalMilli',
      { type: 'alive', member: record({ resources: { cpuTotalMilli: 1.5 } }) },
      /member\.resources\.cpuTotalMilli/,
    ],
    [
      'member.resources.ramTotalMb',
      { type: 'alive', member: record({ resources: { ramTotalMb: -1n } }) },
      /member\.resources\.ramTotalMb/,
    ],
    [
      'member.tags[zone]',
      { type: 'alive', member: record({ tags: { zone: 5 } }) },
      /member\.tags\['zone'\] must be a string/,
    ],
    [
      'member.tags keys',
      { type: 'alive', member: record({ tags: { '': 'x' } }) },
      /member\.tags keys must be 1\.\.255 bytes/,
    ],
    ['member.tags', { type: 'alive', member: record({ tags: [] }) }, /member\.tags must be an object/],
    ['messages[0].member', { type: 'alive', member: null }, /messages\[0\]\.member must be an object/],
    [
      'messages[0].members',
      { type: 'sync_request', join: true, members: {} },
      /messages\[0\]\.members must be an array/,
    ],
    [
      'messages[0].members[1].id',
      { type: 'sync_request', members: [record(), { name: 'x' }] },
      /messages\[0\]\.members\[1\]\.id/,
    ],
    [
      'messages[0].userType',
      { type: 'user', userType: 0x7f, payload: Buffer.alloc(0) },
      /messages\[0\]\.userType must be an integer 128\.\.255/,
    ],
    [
      'messages[0].payload',
      { type: 'user', userType: 0x80, payload: 'text' },
      /messages\[0\]\.payload must be a Uint8Array/,
    ],
    ['messages[0].type', { type: 'pong', seq: 1 }, /messages\[0\]\.type must be one of/],
    ['messages[0].type', { seq: 1 }, /messages\[0\]\.type must be one of/],
  ])('refuses a bad %s with a TypeError naming the field', (_field, message, pattern) => {
    expect(encodeError(message)).toMatch(pattern);
  });

  it('refuses a message list that is not an array, and a non-object message', () => {
    expect(() => codec.encode(samples.ping)).toThrow(new TypeError('messages must be an array'));
    expect(() => codec.encode([42])).toThrow(new TypeError('messages[0] must be an object'));
    expect(() => codec.encodeFrame('ping')).toThrow(new TypeError('message must be an object'));
  });

  it('refuses a decode input that is not bytes, and a bad option', () => {
    expect(() => codec.decode('52414453')).toThrow(new TypeError('buffer must be a Uint8Array or Buffer'));
    expect(() => codec.decode(new Uint16Array(4))).toThrow(TypeError);
    expect(() => codec.decode(Buffer.alloc(8), { maxRecordBytes: -1 })).toThrow(/options\.maxRecordBytes/);
    expect(() => codec.decode(Buffer.alloc(8), { maxRecordBytes: 65537 })).toThrow(/options\.maxRecordBytes/);
    expect(() => codec.packMtu([samples.ping], 'big')).toThrow(/mtu must be an integer/);
  });

  it('decodes from a plain Uint8Array and from a view into a larger buffer', () => {
    const bytes = codec.encode([samples.ack]);
    expect(codec.decode(new Uint8Array(bytes)).messages).toEqual([samples.ack]);
    const padded = Buffer.concat([Buffer.from([9, 9, 9]), bytes, Buffer.from([0x52])]);
    expect(codec.decode(padded.subarray(3, 3 + bytes.length)).messages).toEqual([samples.ack]);
  });

  it('keeps a peer-sent "__proto__" tag as an ordinary tag', () => {
    const member = record({ tags: JSON.parse('{"__proto__":"x","zone":"a"}') });
    const decoded = codec.decode(codec.encode([{ type: 'alive', member }])).messages[0].member;
    expect(Object.keys(decoded.tags)).toEqual(['__proto__', 'zone']);
    expect(Object.getPrototypeOf(decoded.tags)).toBe(Object.prototype);
  });
});
