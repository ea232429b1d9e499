// Shared helpers for benchmarks: load the addon, print a result line.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const addon = require('node-gyp-build')(root);

/** Prints one result object as a JSON line, with the common fields every scenario carries. */
export function report(scenario, params, fields) {
  process.stdout.write(`${JSON.stringify({ scenario, ...params, node: process.version, ...fields })}\n`);
}

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
