// Loads the native addon: node-gyp-build looks in build/ (a source build) and then prebuilds/,
// from the package root. Everything here is internal; the public API is in cluster.ts.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ProtocolOptions, ResolvedOptions } from './config.js';

/** A member as the addon hands it over: a frozen plain object built by {@link readMembers}. */
export interface NativeMember {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly state: 'alive' | 'suspect' | 'dead' | 'left';
  readonly incarnation: number;
  readonly resources: Readonly<{
    maxInstances: number;
    currentInstances: number;
    cpuTotal: number;
    cpuAvailable: number;
    ramTotalMb: number;
    ramAvailableMb: number;
  }>;
  readonly tags: Readonly<Record<string, string>>;
  readonly protocolVersion: number;
  readonly stateChangedAt: number;
}

/** One membership event from the I/O thread. */
export interface NativeEvent {
  readonly type: 'join' | 'alive' | 'suspect' | 'dead' | 'leave' | 'update' | 'conflict';
  readonly member: NativeMember;
  readonly at: number;
}

/**
 * Members as the addon sends them: columns, not objects (see MemberColumns in
 * native/addon/cluster_binding.cc for why and for the layout).
 */
export interface MemberColumns {
  readonly count: number;
  /** UTF-8, each string followed by a NUL: per member id, name, address, then tag keys and values. */
  readonly text: Buffer;
  /** NUMBERS_PER_MEMBER numbers per member. */
  readonly numbers: Float64Array;
}

/** A changed member table: `size` members, of which those at `fresh` are described. */
export interface MemberUpdate extends MemberColumns {
  readonly size: number;
  readonly fresh: Uint32Array;
}

const NUMBERS_PER_MEMBER = 13;
const STATES = ['alive', 'suspect', 'dead', 'left'] as const;
// core::EventKind order.
const EVENT_TYPES = ['join', 'alive', 'suspect', 'dead', 'leave', 'update', 'conflict'] as const;
const NO_TAGS: Readonly<Record<string, string>> = Object.freeze({});

/** Calls `visit` with each member of `columns` as a frozen object, and the event kind column. */
function readColumns(columns: MemberColumns, visit: (member: NativeMember, kind: number) => void): void {
  const { numbers } = columns;
  const text = columns.text.toString('utf8').split('\0');
  let s = 0;
  for (let i = 0; i < columns.count; i++) {
    const o = i * NUMBERS_PER_MEMBER;
    const id = text[s++] as string;
    const name = text[s++] as string;
    const address = text[s++] as string;
    const tagCount = numbers[o + 11] as number;
    let tags = NO_TAGS;
    if (tagCount > 0) {
      const own: Record<string, string> = {};
      for (let k = 0; k < tagCount; k++, s += 2) own[text[s] as string] = text[s + 1] as string;
      tags = Object.freeze(own);
    }
    const member: NativeMember = Object.freeze({
      id,
      name,
      address,
      port: numbers[o] as number,
      state: STATES[numbers[o + 1] as number] as NativeMember['state'],
      incarnation: numbers[o + 2] as number,
      resources: Object.freeze({
        maxInstances: numbers[o + 3] as number,
        currentInstances: numbers[o + 4] as number,
        cpuTotal: numbers[o + 5] as number,
        cpuAvailable: numbers[o + 6] as number,
        ramTotalMb: numbers[o + 7] as number,
        ramAvailableMb: numbers[o + 8] as number,
      }),
      tags,
      protocolVersion: numbers[o + 9] as number,
      stateChangedAt: numbers[o + 10] as number,
    });
    visit(member, numbers[o + 12] as number);
  }
}

/** The new member table: fresh members built from the update, the others taken from `previous`. */
export function readMembers(update: MemberUpdate, previous: readonly NativeMember[] | undefined): NativeMember[] {
  const table: NativeMember[] = new Array(update.size);
  if (previous !== undefined) {
    for (let i = 0; i < update.size && i < previous.length; i++) table[i] = previous[i] as NativeMember;
  }
  let next = 0;
  readColumns(update, (member) => {
    table[update.fresh[next++] as number] = member;
  });
  return table;
}

/** A batch of events, as frozen objects in order. */
export function readEvents(columns: MemberColumns): NativeEvent[] {
  const events: NativeEvent[] = [];
  readColumns(columns, (member, kind) => {
    events.push(Object.freeze({ type: EVENT_TYPES[kind] ?? 'update', member, at: member.stateChangedAt }));
  });
  return events;
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
   * The member table. `undefined`: unchanged since the last call. Otherwise what changed since
   * the last call (with `cached` false: everything); see {@link readMembers}.
   */
  members(cached: boolean): MemberUpdate | undefined;
  /** Counters and gauges, shaped as `ClusterStats` (the cluster casts it). */
  stats(): Record<string, unknown>;
  localAddress(): { ip: string; port: number };
  /** The keyring (throws `ERR_ENCRYPTION_OFF` for a cluster started without keys). */
  keysAdd(key: Buffer): string;
  keysUse(key: Buffer | string): void;
  keysRemove(key: Buffer | string): void;
  keysList(): { id: string; bits: number; primary: boolean }[];
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
    onBatch: (events: MemberColumns, completions: NativeCompletion[]) => void,
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
