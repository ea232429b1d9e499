#!/usr/bin/env node
// Checks (or with --fix, applies) clang-format on every C++ file under native/ and test/native/.
// Part of `npm run lint`. Needs clang-format on PATH (`.ci/run` installs it from apt).
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fix = process.argv.includes('--fix');

function walk(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== 'corpus') out = out.concat(walk(full));
    } else if (/\.(cc|h|cpp|hpp)$/.test(name)) {
      out.push(full);
    }
  }
  return out;
}

const files = [...walk(path.join(root, 'native')), ...walk(path.join(root, 'test', 'native'))];
if (spawnSync('clang-format', ['--version']).status !== 0) {
  process.stderr.write('clang-format is not installed (apt-get install clang-format)\n');
  process.exit(1);
}
if (fix) {
  execFileSync('clang-format', ['-i', ...files], { stdio: 'inherit' });
  process.exit(0);
}
const result = spawnSync('clang-format', ['--dry-run', '--Werror', ...files], { encoding: 'utf8' });
if (result.status !== 0) {
  process.stderr.write(result.stderr);
  process.stderr.write('C++ formatting differs from .clang-format: run `npm run format`\n');
  process.exit(1);
}
process.stdout.write(`clang-format: ${files.length} files clean\n`);
