// The envelope around every packet and frame (native/wire/envelope.*, docs/wire.md "Envelope"):
// what opens, and the one reason each refused packet is refused for.
import { describe, expect, it } from 'vitest';
import { codec, envelope, key, open, ping, plainPacket, prng, ring } from './envelope-helpers';

// Offsets of the encrypted form: header 0..5, cluster tag 6..9, key id 10..13, nonce 14..25,
// ciphertext, GCM tag (last 16 bytes).
const CLUSTER_TAG = 6;
const KEY_ID = 10;
const NONCE = 14;
const CIPHERTEXT = 26;
const GCM_TAG_BYTES = 16;
const ENCRYPTED_OVERHEAD = CIPHERTEXT - 6 + GCM_TAG_BYTES;
const MIN_SEALED = CIPHERTEXT + 1 + GCM_TAG_BYTES;

describe('encrypted packets', () => {
  it.each([16, 24, 32])('a packet sealed with a %i-byte key opens to the same plain packet', (bytes) => {
    const keys = ring(key(bytes));
    const packet = plainPacket();
    const sealed = envelope.seal(packet, keys, 'prod');
    expect(sealed.length).toBe(packet.length + ENCRYPTED_OVERHEAD);
    expect(envelope.overhead(keys, 'prod')).toBe(ENCRYPTED_OVERHEAD);
    expect(sealed[5]).toBe(0x02 | 0x01); // encrypted, and the compound bit of the plain packet
    // The messages are not readable on the wire.
    expect(sealed.includes(Buffer.from('node-c'))).toBe(false);
    const opened = open(sealed, keys, 'prod');
    expect(opened).toEqual({ ok: true, packet });
    expect(codec.decode(opened.ok ? opened.packet : Buffer.alloc(0), {}).messages[0]).toEqual(ping(77));
  });

  it('every seal draws a fresh nonce, so the same packet never looks the same twice', () => {
    const keys = ring(key(32));
    const packet = plainPacket();
    const nonces = new Set<string>();
    const ciphertexts = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const sealed: Buffer = envelope.seal(packet, keys, 'prod');
      nonces.add(sealed.subarray(NONCE, CIPHERTEXT).toString('hex'));
      ciphertexts.add(sealed.subarray(CIPHERTEXT).toString('hex'));
    }
    expect(nonces.size).toBe(2000);
    expect(ciphertexts.size).toBe(2000);
  });

  it('a packet sealed with a key the receiver does not hold is bad_key', () => {
    const sealed = envelope.seal(plainPacket(), ring(key(32, 1)), 'prod');
    expect(open(sealed, ring(key(32, 2)), 'prod')).toEqual({ ok: false, reason: 'bad_key' });
    expect(open(sealed, ring(key(16, 1), key(24, 1)), 'prod')).toEqual({ ok: false, reason: 'bad_key' });
  });

  it('a packet that names our key id but was sealed with another key is tampered', () => {
    const ours = key(32, 1);
    const sealed: Buffer = envelope.seal(plainPacket(), ring(key(32, 2)), 'prod');
    Buffer.from(envelope.keyId(ours), 'hex').copy(sealed, KEY_ID);
    expect(open(sealed, ring(ours), 'prod')).toEqual({ ok: false, reason: 'tampered' });
  });

  it('an encrypted packet reaching a node without keys is bad_key', () => {
    const sealed = envelope.seal(plainPacket(), ring(key(32)), 'prod');
    expect(open(sealed, null, 'prod')).toEqual({ ok: false, reason: 'bad_key' });
    expect(open(sealed, new envelope.Keyring(), 'prod')).toEqual({ ok: false, reason: 'bad_key' });
  });

  it('another cluster sharing our key is wrong_cluster, and faking our cluster tag does not help it', () => {
    const keys = ring(key(32));
    const theirs: Buffer = envelope.seal(plainPacket(), keys, 'staging');
    expect(open(theirs, keys, 'prod')).toEqual({ ok: false, reason: 'wrong_cluster' });
    // Copy our cluster's clear tag into their packet: the full name is GCM associated data,
    // so the tag check passes and authentication fails.
    const ours: Buffer = envelope.seal(plainPacket(), keys, 'prod');
    ours.copy(theirs, CLUSTER_TAG, CLUSTER_TAG, KEY_ID);
    expect(open(theirs, keys, 'prod')).toEqual({ ok: false, reason: 'tampered' });
  });

  it('an unencrypted packet is refused when encryption is on, labelled or not', () => {
    const keys = ring(key(32));
    expect(open(plainPacket(), keys, '')).toEqual({ ok: false, reason: 'unencrypted' });
    expect(open(envelope.seal(plainPacket(), null, 'prod'), keys, 'prod')).toEqual({
      ok: false,
      reason: 'unencrypted',
    });
  });

  it('a byte changed anywhere is refused, for the reason its position implies', () => {
    const keys = ring(key(32));
    const sealed: Buffer = envelope.seal(plainPacket(), keys, 'prod');
    const expected = (offset: number, mask: number): string => {
      if (offset < 4) return 'bad_magic';
      if (offset === 4) return 'bad_version';
      if (offset === 5) return mask === 0x01 ? 'tampered' : mask === 0x02 ? 'unencrypted' : 'bad_field';
      if (offset < KEY_ID) return 'wrong_cluster';
      if (offset < NONCE) return 'bad_key';
      return 'tampered';
    };
    const seen = new Set<string>();
    for (let offset = 0; offset < sealed.length; offset++) {
      for (const mask of [0x01, 0x02, 0x80, 0xff]) {
        const bytes = Buffer.from(sealed);
        bytes[offset] = (bytes[offset] as number) ^ mask;
        const result = open(bytes, keys, 'prod');
        expect(result, `offset ${offset} mask ${mask}`).toEqual({ ok: false, reason: expected(offset, mask) });
        seen.add(expected(offset, mask));
      }
    }
    expect([...seen].sort()).toEqual(
      ['bad_field', 'bad_key', 'bad_magic', 'bad_version', 'tampered', 'unencrypted', 'wrong_cluster'].sort(),
    );
  });

  it('a packet cut at any length is refused: truncated below the smallest sealed size, tampered above', () => {
    const keys = ring(key(32));
    const sealed: Buffer = envelope.seal(plainPacket(), keys, 'prod');
    for (let length = 0; length < sealed.length; length++) {
      const result = open(sealed.subarray(0, length), keys, 'prod');
      expect(result, `length ${length}`).toEqual({
        ok: false,
        reason: length < MIN_SEALED ? 'truncated' : 'tampered',
      });
    }
  });

  it('bytes appended to a sealed packet are tampered', () => {
    const keys = ring(key(32));
    const sealed: Buffer = envelope.seal(plainPacket(), keys, 'prod');
    expect(open(Buffer.concat([sealed, Buffer.from([0])]), keys, 'prod')).toEqual({ ok: false, reason: 'tampered' });
  });

  it('random bytes, with or without a valid header, never open', () => {
    const keys = ring(key(32));
    const next = prng(5);
    const header = envelope.seal(plainPacket(), keys, 'prod').subarray(0, CIPHERTEXT);
    const reasons = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.alloc(next() % 200);
      for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
      // Half keep our header, cluster tag, key id and a nonce: only the GCM tag stands between.
      if (i % 2 === 0) header.copy(bytes, 0, 0, Math.min(bytes.length, header.length));
      const result = open(bytes, keys, 'prod');
      expect(result.ok).toBe(false);
      if (!result.ok) reasons.add(result.reason);
    }
    expect(reasons).toContain('tampered');
  });
});

describe('cluster labels without encryption', () => {
  it('a labelled packet opens only in the cluster it names', () => {
    const packet = plainPacket();
    const labelled: Buffer = envelope.seal(packet, null, 'prod');
    expect(labelled.length).toBe(packet.length + 1 + 4);
    expect(envelope.overhead(null, 'prod')).toBe(5);
    expect(labelled[5]).toBe(0x04 | 0x01);
    expect(open(labelled, null, 'prod')).toEqual({ ok: true, packet });
    expect(open(labelled, null, 'prod2')).toEqual({ ok: false, reason: 'wrong_cluster' });
    expect(open(labelled, null, 'pro')).toEqual({ ok: false, reason: 'wrong_cluster' });
    expect(open(labelled, null, '')).toEqual({ ok: false, reason: 'wrong_cluster' });
  });

  it('a node with a cluster name refuses unlabelled packets; a node without one accepts only those', () => {
    const packet = plainPacket();
    expect(envelope.seal(packet, null, '')).toEqual(packet);
    expect(envelope.overhead(null, '')).toBe(0);
    expect(open(packet, null, 'prod')).toEqual({ ok: false, reason: 'wrong_cluster' });
    expect(open(packet, null, '')).toEqual({ ok: true, packet });
  });

  it('a label cut short is truncated and an empty label is bad_field', () => {
    const labelled: Buffer = envelope.seal(plainPacket(), null, 'production');
    for (let length = 6; length < 7 + 'production'.length; length++) {
      expect(open(labelled.subarray(0, length), null, 'production')).toEqual({ ok: false, reason: 'truncated' });
    }
    const empty = Buffer.from(labelled);
    empty[6] = 0;
    expect(open(empty, null, 'production')).toEqual({ ok: false, reason: 'bad_field' });
  });

  it('a cluster name may be 255 bytes of UTF-8 and no more', () => {
    const name = `${'é'.repeat(127)}x`;
    expect(Buffer.byteLength(name)).toBe(255);
    const labelled = envelope.seal(plainPacket(), null, name);
    expect(open(labelled, null, name)).toEqual({ ok: true, packet: plainPacket() });
    expect(() => envelope.seal(plainPacket(), null, `${name}x`)).toThrow(/clusterName must be 0\.\.255 bytes/);
  });

  it('both envelope flags at once, or an unknown flag, is bad_field', () => {
    const packet = Buffer.from(plainPacket());
    for (const flags of [0x06, 0x07, 0x08, 0x40]) {
      packet[5] = flags;
      expect(open(packet, null, ''), `flags ${flags}`).toEqual({ ok: false, reason: 'bad_field' });
      expect(open(packet, ring(key(16)), ''), `flags ${flags}`).toEqual({ ok: false, reason: 'bad_field' });
    }
  });
});

describe('stream frames', () => {
  const members = Array.from({ length: 300 }, (_, i) => ({
    name: `member-${i}`,
    id: BigInt(i),
    address: `10.0.${i >> 8}.${i & 255}`,
    port: 7946,
    state: 'alive',
    incarnation: 1n,
    versions: { min: 1, max: 1, current: 1 },
    resources: {
      maxInstances: 1,
      currentInstances: 0,
      cpuTotalMilli: 1000,
      cpuAvailableMilli: 500,
      ramTotalMb: 1024n,
      ramAvailableMb: 512n,
    },
    tags: { zone: 'a' },
  }));
  const syncFrame: Buffer = codec.encodeFrame({ type: 'sync_response', join: true, members });

  it.each([
    ['with a key', () => ring(key(24))],
    ['with a label only', () => null],
  ])('a SYNC frame sealed %s opens to the same frame', (_form, makeRing) => {
    const keys = makeRing();
    const sealed: Buffer = envelope.sealFrame(syncFrame, keys, 'prod');
    expect(sealed.readUInt32BE(0)).toBe(sealed.length - 4);
    const opened = envelope.openFrame(sealed, keys, 'prod');
    expect(opened).toEqual({ ok: true, frame: syncFrame });
    expect(codec.decodeFrame(opened.frame, {}).messages[0].members).toHaveLength(300);
  });

  it('a frame whose length prefix disagrees with its bytes is truncated', () => {
    const keys = ring(key(32));
    const sealed: Buffer = envelope.sealFrame(syncFrame, keys, 'prod');
    expect(envelope.openFrame(sealed.subarray(0, sealed.length - 1), keys, 'prod')).toEqual({
      ok: false,
      reason: 'truncated',
    });
    expect(envelope.openFrame(sealed.subarray(0, 3), keys, 'prod')).toEqual({ ok: false, reason: 'truncated' });
    const longer = Buffer.from(sealed);
    longer.writeUInt32BE(sealed.length, 0);
    expect(envelope.openFrame(longer, keys, 'prod')).toEqual({ ok: false, reason: 'truncated' });
  });

  it('a frame opens with the same rules as a packet: wrong cluster, wrong key, tampered', () => {
    const keys = ring(key(32));
    const sealed: Buffer = envelope.sealFrame(syncFrame, keys, 'prod');
    expect(envelope.openFrame(sealed, keys, 'dev')).toEqual({ ok: false, reason: 'wrong_cluster' });
    expect(envelope.openFrame(sealed, ring(key(32, 9)), 'prod')).toEqual({ ok: false, reason: 'bad_key' });
    const changed = Buffer.from(sealed);
    changed[1000] = (changed[1000] as number) ^ 0x10;
    expect(envelope.openFrame(changed, keys, 'prod')).toEqual({ ok: false, reason: 'tampered' });
    expect(envelope.openFrame(syncFrame, keys, 'prod')).toEqual({ ok: false, reason: 'unencrypted' });
  });
});

describe('seal input checks', () => {
  it('refuses what is not a plain packet, rather than sealing it', () => {
    const keys = ring(key(32));
    const sealed = envelope.seal(plainPacket(), keys, 'prod');
    for (const bad of [Buffer.alloc(0), plainPacket().subarray(0, 6), Buffer.from('not a packet'), sealed]) {
      expect(() => envelope.seal(bad, keys, 'prod')).toThrow(TypeError);
    }
    expect(() => envelope.sealFrame(plainPacket(), keys, 'prod')).toThrow(TypeError);
    expect(() => envelope.seal(plainPacket(), {}, 'prod')).toThrow(/keyring must be a Keyring or null/);
    expect(() => envelope.seal(plainPacket(), keys, 7)).toThrow(/clusterName must be a string/);
  });

  it('lists every reason a packet can be refused for', () => {
    expect(envelope.reasons).toEqual([
      'truncated',
      'bad_magic',
      'bad_version',
      'bad_field',
      'unencrypted',
      'bad_key',
      'wrong_cluster',
      'tampered',
    ]);
  });
});
