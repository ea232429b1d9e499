// validate_message: what a node checks before it sends, so it never gossips a message its peers
// would drop. It must give exactly the reason the decoder gives for the encoded message.
import { describe, expect, it } from 'vitest';
import { codec, type Msg, messageTypes, record, samples } from './samples';

const long = 'x'.repeat(256);

const invalid: [string, Msg, string][] = [
  ['an empty ping source', { ...samples.ping, source: '' }, 'bad_field'],
  ['a 256-byte ping target', { ...samples.ping, target: long }, 'oversize'],
  ['an empty ack source', { ...samples.ack, source: '' }, 'bad_field'],
  ['a 256-byte ping_req target', { ...samples.ping_req, target: long }, 'oversize'],
  ['an empty suspecter', { ...samples.suspect, from: '' }, 'bad_field'],
  ['a 256-byte dead target', { ...samples.dead, target: long }, 'oversize'],
  ['an empty leave name', { ...samples.leave, name: '' }, 'bad_field'],
  ['an empty member name', { type: 'alive', member: record({ name: '' }) }, 'bad_field'],
  ['an empty tag key', { type: 'alive', member: record({ tags: { '': 'v' } }) }, 'bad_field'],
  ['a 256-byte tag key', { type: 'alive', member: record({ tags: { [long]: 'v' } }) }, 'oversize'],
  ['a record over the limit', { type: 'alive', member: record({ tags: { big: 'v'.repeat(1000) } }) }, 'oversize'],
  [
    'one bad member in a sync',
    { type: 'sync_response', join: false, members: [record(), record({ name: long })] },
    'oversize',
  ],
];

describe('validating outgoing messages', () => {
  it.each(messageTypes)('accepts the %s sample', (type) => {
    expect(codec.validate(samples[type])).toBeNull();
  });

  it.each(invalid)('refuses %s with the reason the decoder would give', (_what, message, reason) => {
    expect(codec.validate(message)).toBe(reason);
    expect(codec.decode(codec.encode([message], { validate: false })).reason).toBe(reason);
  });

  it('refuses a user message typed below 0x80, which peers would skip or misread as a protocol message', () => {
    expect(codec.validate({ type: 'user', userType: 0x20, payload: Buffer.alloc(1) })).toBe('bad_field');
    expect(codec.validate({ type: 'user', userType: 0x01, payload: Buffer.alloc(1) })).toBe('bad_field');
    expect(
      codec.decode(codec.encode([{ type: 'user', userType: 0x20, payload: Buffer.alloc(1) }], { validate: false })),
    ).toEqual({ ok: true, flags: 0, messages: [], skippedUnknown: 1 });
  });

  it('measures records against the configured limit', () => {
    const member = record({ tags: { big: 'v'.repeat(1000) } });
    const size = codec.encodedRecordSize(member);
    expect(codec.validate({ type: 'alive', member }, { maxRecordBytes: size })).toBeNull();
    expect(codec.validate({ type: 'alive', member }, { maxRecordBytes: size - 1 })).toBe('oversize');
  });
});
