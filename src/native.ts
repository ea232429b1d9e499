// Loads the native addon: prebuilds/ first, then build/ (node-gyp-build), from the package root.
import { createRequire } from 'node:module';
import path from 'node:path';

/** The part of the addon's surface the TypeScript layer uses. Internal; not exported. */
export interface NativeAddon {
  /** Wire protocol version this build speaks. */
  readonly protocolVersion: number;
  /** Native resources registered with the environment's cleanup hook. */
  activeClosers(): number;
}

const requireFromHere = createRequire(__filename);
const packageRoot = path.resolve(__dirname, '..');

let loaded: NativeAddon | undefined;

/** Returns the addon, loading it on first use. */
export function native(): NativeAddon {
  loaded ??= requireFromHere('node-gyp-build')(packageRoot) as NativeAddon;
  return loaded;
}
