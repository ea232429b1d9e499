// Shared material for the envelope and keyring tests: the internal binding, fixed keys, and
// plain packets built with the codec.
import { addon } from '../helpers/addon';

// biome-ignore lint/suspicious/noExplicitAny: the addon's internal test surface is untyped
export type Native = any;

export const envelope: Native = addon.envelope;
export const codec: Native = addon.codec;

export type OpenResult = { ok: true; packet: Buffer } | { ok: false; reason: string };
export type OpenFrameResult = { ok: true; frame: Buffer } | { ok: false; reason: string };

/** A key of `bytes` length whose bytes are derived from `seed` (distinct seeds, distinct keys). */
export function key(bytes: number, seed = 1): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (seed * 131 + i * 29 + 7) & 0xff;
  return out;
}

export function ring(...keys: Buffer[]): Native {
  const keyring = new envelope.Keyring();
  for (const k of keys) keyring.add(k);
  return keyring;
}

export const ping = (seq = 1) => ({ type: 'ping', seq, source: 'node-a', target: 'node-b' });

/** A plain compound packet: a ping plus a few gossip messages. */
export function plainPacket(): Buffer {
  return codec.encode([
    ping(77),
    { type: 'suspect', incarnation: 3n, target: 'node-c', from: 'node-a' },
    { type: 'leave', incarnation: 9n, name: 'node-e' },
  ]);
}

export const open = (bytes: Buffer, keyring: Native | null, cluster: string): OpenResult =>
  envelope.open(bytes, keyring, cluster);

/** A seeded generator (xorshift32) so every run feeds the same bytes. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
