#!/usr/bin/env node
// `npm run bench -- <scenario> [--key value ...]`: runs bench/<scenario>.mjs, which prints one
// JSON object per line on stdout (see ../shared/BENCHMARKS.md). Progress goes to stderr.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [scenario, ...rest] = process.argv.slice(2);
const available = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_'))
  .map((f) => f.slice(0, -4));

if (!scenario || !available.includes(scenario)) {
  process.stderr.write(`usage: npm run bench -- <scenario> [--key value ...]\nscenarios: ${available.join(', ')}\n`);
  process.exit(scenario ? 2 : 0);
}

/** Parses `--key value` pairs; a flag without a value is `true`; numbers become numbers. */
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    if (!key.startsWith('--')) throw new Error(`unexpected argument ${key}`);
    const next = argv[i + 1];
    let value = true;
    if (next !== undefined && !next.startsWith('--')) {
      value = next;
      i++;
    }
    out[key.slice(2)] =
      typeof value === 'string' && value !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
  }
  return out;
}

const file = path.join(here, `${scenario}.mjs`);
if (!existsSync(file)) throw new Error(`no benchmark ${scenario}`);
const mod = await import(pathToFileURL(file).href);
await mod.default(parseArgs(rest));
