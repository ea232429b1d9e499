// Shared material for the wire codec tests: one sample message per type (the golden fixtures
// are these, encoded), byte-level helpers to build packets by hand, and a seeded PRNG.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { addon, projectRoot } from '../helpers/addon';

// biome-ignore lint/suspicious/noExplicitAny: decoded messages are plain objects from the addon
export type Msg = Record<string, any>;

export const codec = addon.codec;
export const fixtureDir = path.join(projectRoot, 'test', 'fixtures', 'wire');

export const U32_MAX = 0xffff_ffff;
export const U64_MAX = 2n ** 64n - 1n;

export function record(overrides: Msg = {}): Msg {
  return {
    name: 'worker-7',
    id: 0x0123_4567_89ab_cdefn,
    address: '10.1.2.3',
    port: 7946,
    state: 'alive',
    incarnation: 42n,
    versions: { min: 1, max: 1, current: 1 },
    resources: {
      maxInstances: 16,
      currentInstances: 3,
      cpuTotalMilli: 8000,
      cpuAvailableMilli: 5250,
      ramTotalMb: 32768n,
      ramAvailableMb: 20480n,
    },
    tags: { zone: 'eu-west-1a', role: 'api' },
    ...overrides,
  };
}

/** One message of every type, with ordinary values: the golden fixtures are these encoded. */
export const samples = {
  ping: { type: 'ping', seq: 1234567, source: 'node-a', target: 'node-b' },
  ack: { type: 'ack', seq: 1234567, source: 'node-b' },
  ping_req: {
    type: 'ping_req',
    seq: 300,
    source: 'node-a',
    target: 'node-c',
    targetAddress: '192.168.1.20',
    targetPort: 7946,
    wantNack: true,
  },
  nack: { type: 'nack', seq: 300, source: 'node-d' },
  alive: {
    type: 'alive',
    member: record({ name: 'node-f', address: '2001:db8::ff00:42:8329', state: 'alive', incarnation: 3n }),
  },
  suspect: { type: 'suspect', incarnation: 7n, target: 'node-c', from: 'node-a' },
  dead: { type: 'dead', incarnation: 8n, target: 'node-c', from: 'node-b' },
  leave: { type: 'leave', incarnation: 9n, name: 'node-e' },
  sync_request: {
    type: 'sync_request',
    join: true,
    members: [record({ name: 'node-a', incarnation: 1n }), record({ name: 'node-g', state: 'suspect', tags: {} })],
  },
  // A pull: the requester's own record and a have-filter (native/wire/have_filter.h).
  sync_pull: {
    type: 'sync_request',
    join: false,
    members: [record({ name: 'node-h', incarnation: 2n })],
    have: { salt: 0x0123456789abcdefn, hashes: 7, bits: Buffer.from([0x81, 0x00, 0xff, 0x10, 0x42, 0x00, 0x00, 0x08]) },
  },
  sync_response: {
    type: 'sync_response',
    join: false,
    members: [record({ name: 'node-b', address: '::1', state: 'left', incarnation: 12n })],
  },
  user: { type: 'user', userType: 0x80, payload: Buffer.from('hello') },
} satisfies Record<string, Msg>;

export type SampleType = keyof typeof samples;
export const messageTypes = Object.keys(samples) as SampleType[];

/** Reads a fixture: hex digits, whitespace ignored, `#` starts a comment to the end of the line. */
export function readHex(file: string): Buffer {
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(text, 'hex');
}

/** Hex in rows of 16 bytes, for fixture files that diff well. */
export function formatHex(bytes: Buffer): string {
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    rows.push(
      bytes
        .subarray(i, i + 16)
        .toString('hex')
        .replace(/(..)(?!$)/g, '$1 '),
    );
  }
  return `${rows.join('\n')}\n`;
}

export function fixturePath(type: string): string {
  return path.join(fixtureDir, `${type}.hex`);
}

// ---- building packets by hand ----

export function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

export function str(text: string): number[] {
  const bytes = [...Buffer.from(text)];
  return [...varint(bytes.length), ...bytes];
}

export function header(flags = 0, version = 1): number[] {
  return [0x52, 0x41, 0x44, 0x53, version, flags];
}

/** `type | varint(length) | body`. */
export function frameMessage(type: number, body: number[]): number[] {
  return [type, ...varint(body.length), ...body];
}

export function packet(...messages: number[][]): Buffer {
  return Buffer.from([...header(messages.length > 1 ? 1 : 0), ...messages.flat()]);
}

/** Encodes one message and returns its body (the bytes after the type and length). */
export function bodyOf(message: Msg): number[] {
  const bytes = codec.encode([message]);
  let offset = 7; // header (6) + type (1)
  while (bytes[offset] & 0x80) offset++;
  return [...bytes.subarray(offset + 1)];
}

// ---- deterministic randomness ----

/** mulberry32: small, seeded, good enough to pick bits to flip. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const decodeReasons = ['truncated', 'bad_magic', 'bad_version', 'oversize', 'bad_field'];
