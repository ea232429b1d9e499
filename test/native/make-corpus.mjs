#!/usr/bin/env node
// Regenerates the fuzz seed corpus (corpus/decode/) from the golden fixtures
// (test/fixtures/wire/*.hex): each fixture as a datagram, as a TCP frame, and all of them in one
// compound packet and one stream of frames. Run after `UPDATE_GOLDEN=1` changes a fixture.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '..', 'fixtures', 'wire');
const out = path.join(here, 'corpus', 'decode');
const HEADER = 6;

function readHex(file) {
  const text = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  return Buffer.from(text, 'hex');
}

function frame(packet) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(packet.length);
  return Buffer.concat([length, packet]);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const packets = [];
const files = readdirSync(fixtures)
  .filter((f) => f.endsWith('.hex'))
  .sort();
for (const file of files) {
  const name = file.slice(0, -4);
  const packet = readHex(path.join(fixtures, file));
  packets.push(packet);
  writeFileSync(path.join(out, `${name}.bin`), packet);
  writeFileSync(path.join(out, `frame-${name}.bin`), frame(packet));
}
const compound = Buffer.concat([packets[0].subarray(0, HEADER), ...packets.map((p) => p.subarray(HEADER))]);
compound[HEADER - 1] = 0x01;
writeFileSync(path.join(out, 'compound-all.bin'), compound);
writeFileSync(path.join(out, 'frames-all.bin'), Buffer.concat(packets.map(frame)));
process.stderr.write(`wrote ${packets.length * 2 + 2} seeds to ${path.relative(process.cwd(), out)}\n`);
