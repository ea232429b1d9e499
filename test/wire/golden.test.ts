// Golden bytes: each message type's sample, encoded, must match the checked-in fixture byte for
// byte, so an accidental change to the wire format fails here. After a deliberate change (and
// a protocol version bump, docs/wire.md), regenerate with `UPDATE_GOLDEN=1 npx vitest run
// test/wire/golden.test.ts`, then `node test/native/make-corpus.mjs` for the fuzz seeds.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codec, fixtureDir, fixturePath, formatHex, messageTypes, readHex, samples } from './samples';

const update = process.env.UPDATE_GOLDEN === '1';

describe('golden wire bytes', () => {
  if (update) {
    mkdirSync(fixtureDir, { recursive: true });
    for (const type of messageTypes) {
      const bytes = codec.encode([samples[type]]);
      writeFileSync(
        fixturePath(type),
        `# ${type}: test/wire/samples.ts, encoded (UPDATE_GOLDEN=1)\n${formatHex(bytes)}`,
      );
    }
  }

  it('has a fixture for every message type', () => {
    for (const type of messageTypes) expect(existsSync(fixturePath(type)), type).toBe(true);
  });

  it.each(messageTypes)('encodes the %s sample to exactly its fixture bytes', (type) => {
    expect(codec.encode([samples[type]]).toString('hex')).toBe(readHex(fixturePath(type)).toString('hex'));
  });

  it.each(messageTypes)('decodes the %s fixture back to the sample message', (type) => {
    const decoded = codec.decode(readHex(fixturePath(type)));
    expect(decoded).toEqual({ ok: true, flags: 0, messages: [samples[type]], skippedUnknown: 0 });
  });
});
