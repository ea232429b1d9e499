// Loads the native addon: node-gyp-build looks in build/ (a source build) and then prebuilds/,
// from the package root. Everything here is internal; the public API is in cluster.ts.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ProtocolOptions, ResolvedOptions } from './config.js';

/** A member as the addon hands it over: already a frozen plain object. */
export interface NativeMember {
  id: string;
  name: string;
  address: string;
  port: number;
  state: 'alive' | 'suspect' | 'dead' | 'left';
  incarnation: number;
  resources: {
    maxInstances: number;
    currentInstances: number;
    cpuTotal: number;
    cpuAvailable: number;
    ramTotalMb: number;
    ramAvailableMb: number;
  };
  tags: Record<string, string>;
  protocolVersion: number;
  stateChangedAt: number;
}

/** One membership event from the I/O thread. */
export interface NativeEvent {
  type: 'join' | 'alive' | 'suspect' | 'dead' | 'leave' | 'update' | 'conflict';
  member: NativeMember;
  at: number;
}

/** The result of a command, matched to its promise by `token`. */
export interface NativeCompletion {
  token: number;
  ok: boolean;
  code: string;
  message: string;
  details: string[];
  value: number;
}

/** One runtime (native/runtime) behind the `Cluster` class. */
export interface NativeClusterHandle {
  join(seeds: { ip: string; port: number }[], token: number): void;
  leave(token: number): void;
  update(resources: NativeMember['resources'], tags: Record<string, string>, token: number): void;
  forceLeave(name: string, token: number): void;
  shutdown(): void;
  running(): boolean;
  /**
   * The member table. `undefined`: unchanged since the last call. Otherwise an array as long as
   * the table whose holes mean "the object at this index of the previous array" (with `cached`
   * false, none). See MemberView::stamp in native/runtime/runtime.h.
   */
  members(cached: boolean): (NativeMember | undefined)[] | undefined;
  stats(): Record<string, number> & { rejected: Record<string, number> };
  localAddress(): { ip: string; port: number };
  ref(): void;
  unref(): void;
}

/** The part of the addon's surface the TypeScript layer uses. */
export interface NativeAddon {
  /** Wire protocol version this build speaks. */
  readonly protocolVersion: number;
  /** Native resources registered with the environment's cleanup hook. */
  activeClosers(): number;
  /** The protocol numbers of a profile (native/core/config.cc). */
  profileDefaults(profile: string): ProtocolOptions;
  NativeCluster: new (
    options: ResolvedOptions & { id: bigint; seed: bigint },
    onBatch: (events: NativeEvent[], completions: NativeCompletion[]) => void,
  ) => NativeClusterHandle;
}

const requireFromHere = createRequire(__filename);
const packageRoot = path.resolve(__dirname, '..');

let loaded: NativeAddon | undefined;

/** Returns the addon, loading it on first use. */
export function native(): NativeAddon {
  loaded ??= requireFromHere('node-gyp-build')(packageRoot) as NativeAddon;
  return loaded;
}
