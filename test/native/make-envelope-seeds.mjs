#!/usr/bin/env node
// Writes hand-made seeds for fuzz_envelope into corpus/envelope/: packets sealed under each
// receiver configuration fuzz_envelope.cc knows (so the fuzzer starts from packets that open,
// which it could never forge), in datagram and frame form, plus seal-then-attack inputs.
// The first byte of each seed is (configuration << 2) | operation, as the fuzzer reads it.
// Needs the addon built (npm run build:native). Coverage-found inputs are added next to these
// by fuzz-nightly.sh --update-corpus.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const require = createRequire(import.meta.url);
const addon = require('node-gyp-build')(root);
const out = path.join(here, 'corpus', 'envelope');
mkdirSync(out, { recursive: true });

// The same keys as fuzz_envelope.cc's make_key (and test/security's key()).
function key(bytes, seed) {
  const k = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) k[i] = (seed * 131 + i * 29 + 7) & 0xff;
  return k;
}

function keyring(choice) {
  const ring = new addon.envelope.Keyring();
  if (choice % 3 === 1) ring.add(key(32, 1));
  if (choice % 3 === 2) {
    ring.add(key(16, 2));
    ring.use(ring.add(key(24, 3)));
  }
  return ring;
}

const clusterNames = ['', 'prod', 'c'.repeat(255)];
const packet = addon.codec.encode([
  { type: 'ping', seq: 5, source: 'node-a', target: 'node-b' },
  { type: 'suspect', incarnation: 2n, target: 'node-c', from: 'node-a' },
]);
const frame = addon.codec.encodeFrame({ type: 'ack', seq: 9, source: 'node-b' });

for (let choice = 0; choice < 9; choice++) {
  const ring = keyring(choice);
  const cluster = clusterNames[Math.floor(choice / 3) % 3];
  const sealed = addon.envelope.seal(packet, ring, cluster);
  const sealedFrame = addon.envelope.sealFrame(frame, ring, cluster);
  writeFileSync(path.join(out, `open-${choice}.bin`), Buffer.concat([Buffer.from([(choice << 2) | 0]), sealed]));
  writeFileSync(
    path.join(out, `open-frame-${choice}.bin`),
    Buffer.concat([Buffer.from([(choice << 2) | 1]), sealedFrame]),
  );
  const control = Buffer.from([(choice << 2) | 2, 1, 0, 20, 0x80, 0, 30]);
  writeFileSync(path.join(out, `seal-${choice}.bin`), Buffer.concat([control, packet.subarray(6)]));
}
process.stderr.write(`wrote 27 seeds to ${out}\n`);
