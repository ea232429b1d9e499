#!/usr/bin/env node
// What a flood costs one engine, and what the envelope costs per packet: one JSON line per
// measurement on stdout (the bench/ format, docs in ../../../shared/BENCHMARKS.md style).
//
//   node test/security/bench-flood.mjs [--packets N]        (default 1,000,000)
//
// Engine figures are CPU time (user + system) per packet through addon.engine, including the
// JavaScript-to-native call (~0.1-0.2 us); the envelope figures come from a native loop.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const addon = require('node-gyp-build')(root);
const { codec, engine, envelope } = addon;

const args = process.argv.slice(2);
const packetsArg = args.indexOf('--packets');
const packets = packetsArg >= 0 ? Number(args[packetsArg + 1]) : 1_000_000;

function report(fields) {
  process.stdout.write(`${JSON.stringify({ scenario: 'flood', packets, node: process.version, ...fields })}\n`);
}

function record(name, address = '10.0.0.1') {
  return {
    name,
    id: 7n,
    address,
    port: 7946,
    state: 'alive',
    incarnation: 0n,
    versions: { min: 1, max: 1, current: 1 },
    resources: {
      maxInstances: 4,
      currentInstances: 1,
      cpuTotalMilli: 4000,
      cpuAvailableMilli: 2000,
      ramTotalMb: 8192n,
      ramAvailableMb: 4096n,
    },
    tags: { zone: 'a' },
  };
}

function newEngine(config = {}) {
  const local = codec.encode([{ type: 'alive', member: record('victim') }]);
  const e = new engine.Engine({ local, seed: 1, profile: 'lan', config });
  e.tick(0);
  return e;
}

function cpuNs(fn) {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) * 1000;
}

// 1. Garbage: random bytes after a valid header (the decoder reads the first message entry).
{
  const e = newEngine();
  const pool = Array.from({ length: 1024 }, (_, i) => {
    const b = Buffer.alloc(64 + ((i * 37) % 1300));
    for (let j = 0; j < b.length; j++) b[j] = (i * 131 + j * 17) & 0xff;
    b.write('RADS', 0, 'latin1');
    b[4] = 1;
    b[5] = 0;
    b[6] = 0; // type 0: refused as bad_field after the header
    return b;
  });
  const ns = cpuNs(() => {
    for (let i = 0; i < packets; i++) e.receive('192.0.2.1', 9999, pool[i & 1023], 1);
  });
  report({ measure: 'garbageNsPerPacket', value: ns / packets, memoryBytes: e.memoryBytes() });
}

// 2. Spoofed members: a distinct name per packet; the table fills to maxMembers, then refuses.
for (const maxMembers of [1000, 100000]) {
  const e = newEngine({ maxMembers });
  const bytes = codec.encode([{ type: 'alive', member: record('spoof-00000000', '203.0.113.9') }]);
  const at = bytes.indexOf(Buffer.from('spoof-')) + 6;
  const ns = cpuNs(() => {
    for (let i = 0; i < packets; i++) {
      bytes.write(i.toString(16).padStart(8, '0'), at, 'latin1');
      e.receive('203.0.113.9', 7946, bytes, 1 + (i >> 10));
      if ((i & 1023) === 1023) {
        e.tick(1 + (i >> 10));
        e.drain();
      }
    }
  });
  const members = e.members().length;
  report({
    measure: 'spoofedMemberNsPerPacket',
    maxMembers,
    value: ns / packets,
    members,
    memoryBytes: e.memoryBytes(),
    engineBytesPerMember: Math.round(e.memoryBytes() / members),
    rssMb: Math.round(process.memoryUsage().rss / 1048576),
  });
}

// 3. SYNC requests with 20 spoofed members each, against a table of 500.
{
  const e = newEngine({ maxMembers: 500 });
  const members = Array.from({ length: 20 }, (_, j) => record(`sync-${j}-0000000`, '203.0.113.9'));
  const frame = codec.encodeFrame({ type: 'sync_request', join: true, members });
  const ats = members.map((_, j) => frame.indexOf(Buffer.from(`sync-${j}-`)) + `sync-${j}-`.length);
  const requests = Math.max(1, Math.floor(packets / 100));
  let replyBytes = 0;
  const ns = cpuNs(() => {
    for (let i = 0; i < requests; i++) {
      for (const at of ats) frame.write(i.toString(16).padStart(7, '0'), at, 'latin1');
      replyBytes += e.serveStream('203.0.113.9', 7946, frame, 1 + i)?.length ?? 0;
    }
  });
  report({ measure: 'syncNsPerRequest', requests, value: ns / requests, replyBytesEach: replyBytes / requests });
}

// 4. The envelope: seal and open, and what each refusal costs.
for (const keyBytes of [16, 32]) {
  for (const packetBytes of [100, 1400]) {
    const r = envelope.benchmark({ packetBytes, keyBytes, iterations: Math.min(packets, 200000) });
    report({ measure: 'envelope', keyBytes, packetBytes, ...r });
  }
}
