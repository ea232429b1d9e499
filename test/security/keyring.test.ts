// The keyring (native/wire/keyring.*): one primary key seals, every key opens; rotation
// without a moment in which two members cannot read each other; keys never shown.
import { describe, expect, it } from 'vitest';
import { envelope, key, type Native, open, plainPacket, ring } from './envelope-helpers';

function keyringError(action: () => unknown): Error & { code?: string } {
  try {
    action();
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the keyring to refuse');
}

describe('keyring', () => {
  it('the first key added is primary; list shows ids, sizes and the primary, in the order added', () => {
    const keys = new envelope.Keyring();
    expect(keys.size).toBe(0);
    expect(keys.list()).toEqual([]);
    const a = keys.add(key(16, 1));
    const b = keys.add(key(24, 2));
    const c = keys.add(key(32, 3));
    expect([a, b, c].every((id: string) => /^[0-9a-f]{8}$/.test(id))).toBe(true);
    expect(new Set([a, b, c]).size).toBe(3);
    expect(keys.list()).toEqual([
      { id: a, bits: 128, primary: true },
      { id: b, bits: 192, primary: false },
      { id: c, bits: 256, primary: false },
    ]);
    expect(envelope.keyId(key(24, 2))).toBe(b);
  });

  it('use makes another key primary, by id or by the key itself, and only the primary seals', () => {
    const a = key(32, 1);
    const b = key(32, 2);
    const keys = ring(a, b);
    const onlyA = ring(a);
    const onlyB = ring(b);
    expect(open(envelope.seal(plainPacket(), keys, 'c'), onlyA, 'c').ok).toBe(true);
    keys.use(envelope.keyId(b));
    expect(keys.list().map((k: Native) => k.primary)).toEqual([false, true]);
    const sealed = envelope.seal(plainPacket(), keys, 'c');
    expect(open(sealed, onlyB, 'c').ok).toBe(true);
    expect(open(sealed, onlyA, 'c')).toEqual({ ok: false, reason: 'bad_key' });
    keys.use(a);
    expect(keys.list().map((k: Native) => k.primary)).toEqual([true, false]);
  });

  it('remove refuses the primary key and unknown keys; removing another key keeps the primary', () => {
    const keys = ring(key(32, 1), key(32, 2), key(32, 3));
    const [a, b, c] = keys.list().map((k: Native) => k.id);
    expect(keyringError(() => keys.remove(a)).code).toBe('ERR_KEYRING_PRIMARY');
    expect(keyringError(() => keys.remove('00000000')).code).toBe('ERR_KEYRING_UNKNOWN');
    expect(keyringError(() => keys.use('00000000')).code).toBe('ERR_KEYRING_UNKNOWN');
    keys.use(c);
    keys.remove(b);
    expect(keys.list()).toEqual([
      { id: a, bits: 256, primary: false },
      { id: c, bits: 256, primary: true },
    ]);
    keys.remove(a);
    expect(keys.list()).toEqual([{ id: c, bits: 256, primary: true }]);
    // A removed key no longer opens anything.
    expect(open(envelope.seal(plainPacket(), ring(key(32, 2)), 'x'), keys, 'x')).toEqual({
      ok: false,
      reason: 'bad_key',
    });
  });

  it.each([0, 1, 15, 17, 23, 25, 31, 33, 64])('a %i-byte key is refused as bad length', (bytes) => {
    const keys = new envelope.Keyring();
    expect(keyringError(() => keys.add(Buffer.alloc(bytes, 1))).code).toBe('ERR_KEYRING_BAD_LENGTH');
    expect(keyringError(() => envelope.keyId(Buffer.alloc(bytes, 1))).code).toBe('ERR_KEYRING_BAD_LENGTH');
    expect(keys.size).toBe(0);
  });

  it('adding a key twice is refused, and a ring holds at most 16 keys', () => {
    const keys = ring(key(32, 1));
    expect(keyringError(() => keys.add(key(32, 1))).code).toBe('ERR_KEYRING_EXISTS');
    for (let seed = 2; seed <= 16; seed++) keys.add(key(16, seed));
    expect(keys.size).toBe(16);
    expect(keyringError(() => keys.add(key(16, 17))).code).toBe('ERR_KEYRING_FULL');
    expect(keys.size).toBe(16);
  });

  it('a key id must be 8 hex digits or the key itself', () => {
    const keys = ring(key(32, 1));
    for (const bad of ['xyz', '0123456', '012345678', 12345678, null]) {
      expect(() => keys.use(bad)).toThrow(/key must be a key id \(8 hex digits\) or a key Buffer/);
    }
  });
});

describe('key rotation between two members', () => {
  it('packets sealed with the old or the new key open on both members at every step of a rotation', () => {
    const oldKey = key(32, 10);
    const newKey = key(32, 11);
    const x = ring(oldKey);
    const y = ring(oldKey);
    const exchange = () => ({
      xToY: open(envelope.seal(plainPacket(), x, 'prod'), y, 'prod').ok,
      yToX: open(envelope.seal(plainPacket(), y, 'prod'), x, 'prod').ok,
    });
    const inFlightOld = envelope.seal(plainPacket(), x, 'prod');

    // 1. add the new key everywhere (one member at a time)
    x.add(newKey);
    expect(exchange()).toEqual({ xToY: true, yToX: true });
    y.add(newKey);
    // 2. make it primary everywhere (one member at a time): the other still reads it
    x.use(newKey);
    expect(exchange()).toEqual({ xToY: true, yToX: true });
    const inFlightNew = envelope.seal(plainPacket(), x, 'prod');
    y.use(newKey);
    expect(exchange()).toEqual({ xToY: true, yToX: true });
    // Until the old key is removed, packets sealed with either key still open.
    for (const keys of [x, y]) {
      expect(open(inFlightOld, keys, 'prod').ok).toBe(true);
      expect(open(inFlightNew, keys, 'prod').ok).toBe(true);
    }
    // 3. remove the old key everywhere
    x.remove(oldKey);
    expect(exchange()).toEqual({ xToY: true, yToX: true });
    y.remove(oldKey);
    expect(exchange()).toEqual({ xToY: true, yToX: true });
    expect(open(inFlightOld, x, 'prod')).toEqual({ ok: false, reason: 'bad_key' });
    expect(x.list()).toEqual([{ id: envelope.keyId(newKey), bits: 256, primary: true }]);
  });
});

describe('keys are never shown', () => {
  it('no error, list entry or sealed packet contains the key in any encoding', () => {
    const secret = Buffer.from('c0nstellation-s3cret-key-32-byte', 'latin1');
    expect(secret.length).toBe(32);
    const forms = [
      secret.toString('hex'),
      secret.toString('base64'),
      secret.toString('base64url'),
      secret.toString('latin1'),
      secret.subarray(0, 8).toString('hex'),
    ];
    const keys = ring(secret, key(16, 2));
    const texts: string[] = [];
    const collect = (action: () => unknown) => {
      const error = keyringError(action);
      texts.push(error.message, String(error.code), JSON.stringify(error), String(error.stack));
    };
    collect(() => keys.add(secret));
    collect(() => keys.remove(secret));
    collect(() => keys.add(Buffer.concat([secret, Buffer.from('!')])));
    collect(() => envelope.keyId(secret.subarray(0, 31)));
    collect(() => keys.use(secret.subarray(0, 20)));
    collect(() => keys.use(secret.toString('hex')));
    texts.push(JSON.stringify(keys.list()));
    const sealed: Buffer = envelope.seal(plainPacket(), keys, 'prod');
    texts.push(sealed.toString('latin1'), sealed.toString('hex'));
    for (const text of texts) {
      for (const form of forms) expect(text.includes(form), `${form} in ${text.slice(0, 80)}`).toBe(false);
    }
    expect(sealed.includes(secret)).toBe(false);
  });
});
