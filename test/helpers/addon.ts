// Loads the native addon for tests the same way the package does (prebuilds/ first, then
// build/), without going through the public API.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(__dirname, '..', '..');

// biome-ignore lint/suspicious/noExplicitAny: the addon's internal test surface is untyped here
export const addon: any = require('node-gyp-build')(root);
export const projectRoot = root;
