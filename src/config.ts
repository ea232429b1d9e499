// Options of `Cluster.start`: their types, validation (every rule names its field) and the
// profiles. The profile numbers live in one table, native/core/config.cc, with the source of
// each beside it, because the simulator and the runtime must share them; `profileDefaults`
// reads that table.
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { InvalidConfigError } from './errors.js';
import { checkLogger, type Logger, silentLogger } from './logger.js';
import { native } from './native.js';

/** A protocol profile: memberlist's LAN, WAN and Local defaults (see docs/tuning.md for changes). */
export type Profile = 'lan' | 'wan' | 'local';

/** Protocol timings and limits. Every field is optional in {@link ClusterOptions}; the profile fills the rest. */
export interface ProtocolOptions {
  /** SWIM protocol period: one member probed per interval. */
  probeIntervalMs: number;
  /** How long a direct probe waits for an ack before probing indirectly. */
  probeTimeoutMs: number;
  /** Members asked to probe indirectly (PING_REQ) when a direct probe fails. */
  indirectChecks: number;
  /** After a failed indirect probe, also try a TCP ping before suspecting. */
  tcpFallbackProbe: boolean;
  /** Bound on one TCP exchange (SYNC, TCP ping). */
  streamTimeoutMs: number;
  /** Each update is retransmitted `retransmitMult * ceil(log10(n + 1))` times. */
  retransmitMult: number;
  /** Members gossiped to per gossip round. */
  gossipNodes: number;
  /** Gossip round period. */
  gossipIntervalMs: number;
  /** Recently dead members still receive gossip for this long, so they can refute. */
  gossipToTheDeadMs: number;
  /** Lifeguard: suspicion minimum = suspicionMult x max(1, log10 n) x probe interval. */
  suspicionMult: number;
  /** Lifeguard: suspicion maximum = suspicionMaxTimeoutMult x minimum. */
  suspicionMaxTimeoutMult: number;
  /**
   * Lifeguard's K: independent confirmations that shrink a suspicion's timeout to its minimum
   * (0: the minimum from the start). memberlist derives it as suspicionMult - 2.
   */
  suspicionConfirmations: number;
  /** Lifeguard: cap of the local health multiplier. */
  awarenessMaxMultiplier: number;
  /** Full-state anti-entropy SYNC period (stretched for large clusters); 0 disables it. */
  pushPullIntervalMs: number;
  /** Period of reconnection attempts to dead members and seeds (partition healing). */
  reconnectIntervalMs: number;
  /** Dead members are kept (as tombstones) this long before being forgotten. */
  deadReapMs: number;
  /** Members that left are kept this long before being forgotten. */
  leftReapMs: number;
  /** `leave()` waits at most this long for the LEAVE to spread. */
  leavePropagateMs: number;
  /** Largest datagram sent, bytes. */
  mtu: number;
  /** Largest encoded member record (name, address, resources, tags), bytes. */
  maxRecordBytes: number;
  /** Bound on the member table (alive members and tombstones). */
  maxMembers: number;
  /** Bound on queued broadcasts. */
  maxBroadcasts: number;
}

/** A member's resources: the seed system's Node fields. */
export interface Resources {
  /** Instance slots the member offers. */
  readonly maxInstances: number;
  /** Instance slots in use. */
  readonly currentInstances: number;
  /** CPUs in total (fractions allowed, millicore precision). */
  readonly cpuTotal: number;
  /** CPUs free. */
  readonly cpuAvailable: number;
  /** RAM in total, MiB. */
  readonly ramTotalMb: number;
  /** RAM free, MiB. */
  readonly ramAvailableMb: number;
}

/** Options of {@link Cluster.start}. */
export interface ClusterOptions extends Partial<ProtocolOptions> {
  /** Name of the cluster; members of different clusters never merge. Default `default`. */
  clusterName?: string;
  /** This member's name, unique in the cluster (1-255 bytes of UTF-8). */
  nodeName: string;
  /** `host:port` to bind UDP and TCP on (same port). Port 0 picks a free one. Default `0.0.0.0:7946`. */
  bind?: string;
  /** `host:port` others should use to reach this member (NAT, containers). Default: the bound address. */
  advertise?: string;
  /** Protocol profile the timings start from. Default `lan`. */
  profile?: Profile;
  /** Resources to announce. Missing fields are 0. */
  resources?: Partial<Resources>;
  /** Tags to announce (string to string). */
  tags?: Readonly<Record<string, string>>;
  /**
   * `shared` (default): the protocol runs on one native I/O thread shared by every cluster in
   * the process. `own`: this cluster gets a thread of its own, isolated from heavy neighbours.
   */
  ioThread?: IoThread;
  /**
   * Encryption keys (AES-GCM): 16, 24 or 32 bytes each, as Buffers or base64 strings, at most
   * 16. The first seals what this member sends; every key opens what it receives, so keys
   * rotate without downtime (`Cluster.keys`). Without keys nothing is encrypted (the
   * cluster name is still checked on every packet). Start every member of a cluster with keys,
   * or none: a member with keys refuses unencrypted packets. Keys never appear in errors,
   * logs, stats or events; pass Buffers and clear them after `start` if that matters to you.
   */
  keys?: readonly (Uint8Array | string)[];
  /**
   * The incarnation this member starts at (a non-negative safe integer). Default 0. SWIM orders
   * news about a member by incarnation, so a member restarted under the same name should start
   * above every incarnation it used before: then its first ALIVE is news to everyone, never
   * mistaken for an old one. The agent's snapshot remembers the last one and does this.
   */
  incarnation?: number;
  /**
   * A pino-style logger (`debug`, `info`, `warn`, `error`, each taking structured fields then
   * a message); pino itself can be passed. Default: silent. Keys are never logged.
   */
  logger?: Logger;
}

/** Which native thread runs a cluster's protocol; see {@link ClusterOptions.ioThread}. */
export type IoThread = 'shared' | 'own';

/** Options after validation, as the native layer takes them. */
export interface ResolvedOptions {
  clusterName: string;
  name: string;
  bindIp: string;
  bindPort: number;
  advertiseIp?: string;
  advertisePort?: number;
  profile: Profile;
  config: Partial<ProtocolOptions>;
  resources: Resources;
  tags: Record<string, string>;
  ioThread: IoThread;
  /** Key copies for the native layer; `Cluster.start` wipes them once the runtime holds them. */
  keys: Buffer[];
  incarnation: number;
  logger: Logger;
}

const PROFILES: readonly Profile[] = ['lan', 'wan', 'local'];
const IO_THREADS: readonly IoThread[] = ['shared', 'own'];
/** The options of `Cluster.start` that are not protocol numbers (README's options table). */
export const OPTION_NAMES: readonly string[] = Object.freeze([
  'nodeName',
  'bind',
  'advertise',
  'clusterName',
  'profile',
  'resources',
  'tags',
  'ioThread',
  'keys',
  'incarnation',
  'logger',
]);
// With the profile's keys, everything start() accepts.
const OTHER_OPTIONS = new Set(OPTION_NAMES);
const MAX_NAME_BYTES = 255;
const MAX_U32 = 0xffff_ffff;

/** The protocol numbers of a profile, from the native table. */
export function profileDefaults(profile: Profile = 'lan'): Readonly<ProtocolOptions> {
  if (!PROFILES.includes(profile)) throw new InvalidConfigError('profile', `one of ${PROFILES.join(', ')}`);
  return native().profileDefaults(profile);
}

function fail(field: string, rule: string): never {
  throw new InvalidConfigError(field, rule);
}

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(field, 'a non-empty string');
  if (value.includes('\0')) fail(field, 'a string without NUL characters');
  if (Buffer.byteLength(value) > MAX_NAME_BYTES) fail(field, `at most ${MAX_NAME_BYTES} bytes of UTF-8`);
  return value;
}

/** Splits `host:port` or `[v6]:port`; the host must be a numeric IP when `numeric` is set. */
export function parseHostPort(value: unknown, field: string, numeric: boolean): { host: string; port: number } {
  if (typeof value !== 'string') fail(field, 'a "host:port" string');
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value);
  if (!match) fail(field, 'a "host:port" string ("[::1]:7946" for IPv6)');
  const host = match[1] as string;
  const port = Number(match[2]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(field, 'a port from 0 to 65535');
  if (numeric && isIP(host) === 0) fail(field, 'a numeric IPv4 or IPv6 address and a port');
  return { host, port };
}

function checkProtocol(options: ClusterOptions, defaults: Readonly<ProtocolOptions>): Partial<ProtocolOptions> {
  const out: Partial<ProtocolOptions> = {};
  const keys = Object.keys(defaults) as (keyof ProtocolOptions)[];
  for (const key of keys) {
    const value = options[key];
    if (value === undefined) continue;
    if (key === 'tcpFallbackProbe') {
      if (typeof value !== 'boolean') fail(key, 'a boolean');
      out.tcpFallbackProbe = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
      fail(key, 'a non-negative integer');
    }
    (out as Record<string, number>)[key] = value;
  }
  const merged = { ...defaults, ...out };
  if (merged.probeIntervalMs < 1) fail('probeIntervalMs', 'at least 1');
  if (merged.probeTimeoutMs < 1) fail('probeTimeoutMs', 'at least 1');
  if (merged.probeTimeoutMs > merged.probeIntervalMs) fail('probeTimeoutMs', 'at most probeIntervalMs');
  if (merged.gossipIntervalMs < 1) fail('gossipIntervalMs', 'at least 1');
  if (merged.suspicionMult < 1) fail('suspicionMult', 'at least 1');
  if (merged.suspicionMaxTimeoutMult < 1) fail('suspicionMaxTimeoutMult', 'at least 1');
  if (merged.suspicionConfirmations > 64) fail('suspicionConfirmations', 'at most 64');
  if (merged.awarenessMaxMultiplier < 1) fail('awarenessMaxMultiplier', 'at least 1');
  if (merged.retransmitMult < 1) fail('retransmitMult', 'at least 1');
  if (merged.streamTimeoutMs < 1) fail('streamTimeoutMs', 'at least 1');
  if (merged.mtu < 576 || merged.mtu > 65507) fail('mtu', 'from 576 to 65507 bytes');
  if (merged.maxRecordBytes < 64 || merged.maxRecordBytes > 65536) fail('maxRecordBytes', 'from 64 to 65536 bytes');
  if (merged.maxMembers < 1) fail('maxMembers', 'at least 1');
  if (merged.maxBroadcasts < 1) fail('maxBroadcasts', 'at least 1');
  return out;
}

/** Checks resources; `partial` keeps missing fields missing (for updates). */
export function checkResources(value: unknown, field: string, base: Resources): Resources {
  if (value === undefined) return base;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'an object');
  const out: Record<string, number> = { ...base };
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in base)) fail(`${field}.${key}`, `not a resource field (known: ${Object.keys(base).join(', ')})`);
    const v = record[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`${field}.${key}`, 'a finite number >= 0');
    const integer = key === 'maxInstances' || key === 'currentInstances' || key.startsWith('ram');
    if (integer && !Number.isInteger(v)) fail(`${field}.${key}`, 'an integer');
    if (key.startsWith('cpu') && v * 1000 > MAX_U32) fail(`${field}.${key}`, 'at most 4294967 CPUs');
    if ((key === 'maxInstances' || key === 'currentInstances') && v > MAX_U32)
      fail(`${field}.${key}`, 'at most 2^32-1');
    if (key.startsWith('ram') && v > Number.MAX_SAFE_INTEGER) fail(`${field}.${key}`, 'at most 2^53-1');
    out[key] = v;
  }
  return out as unknown as Resources;
}

/** Checks a tag map: string keys of 1-255 bytes, string values. */
export function checkTags(value: unknown, field: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'an object of strings');
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.length === 0 || Buffer.byteLength(key) > MAX_NAME_BYTES) fail(`${field}.${key}`, 'a key of 1-255 bytes');
    if (typeof v !== 'string') fail(`${field}.${key}`, 'a string');
    // The addon passes strings to JavaScript NUL-separated (see MemberColumns).
    if (key.includes('\0') || v.includes('\0')) fail(`${field}.${key}`, 'strings without NUL characters');
    out[key] = v;
  }
  return out;
}

const KEY_SIZES = [16, 24, 32];
const MAX_KEYS = 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * One key as a fresh Buffer: a Buffer/Uint8Array (copied) or a base64 string. The error names
 * the field and the rule, never the value.
 */
export function checkKey(value: unknown, field: string): Buffer {
  let key: Buffer;
  if (value instanceof Uint8Array) {
    key = Buffer.from(value);
  } else if (typeof value === 'string' && BASE64.test(value)) {
    key = Buffer.from(value, 'base64');
  } else {
    fail(field, 'a key as a Buffer or a base64 string');
  }
  if (!KEY_SIZES.includes(key.length)) {
    key.fill(0);
    fail(field, 'a 16, 24 or 32-byte key (AES-128, -192 or -256)');
  }
  return key;
}

function checkKeys(value: unknown): Buffer[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('keys', 'an array of keys');
  if (value.length > MAX_KEYS) fail('keys', `at most ${MAX_KEYS} keys`);
  const keys: Buffer[] = [];
  try {
    for (const [i, item] of value.entries()) {
      const key = checkKey(item, `keys[${i}]`);
      keys.push(key);
      if (keys.some((other) => other !== key && other.equals(key))) fail(`keys[${i}]`, 'a key not given twice');
    }
  } catch (error) {
    for (const key of keys) key.fill(0);
    throw error;
  }
  return keys;
}

function checkIncarnation(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    fail('incarnation', 'a non-negative integer (at most 2^53-1)');
  return value;
}

/** Resources with every field 0. */
export const NO_RESOURCES: Resources = Object.freeze({
  maxInstances: 0,
  currentInstances: 0,
  cpuTotal: 0,
  cpuAvailable: 0,
  ramTotalMb: 0,
  ramAvailableMb: 0,
});

/** A local address others can reach, for a wildcard bind without `advertise`. */
function pickAdvertiseIp(family: 4 | 6): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) {
      if (!entry.internal && entry.family === (family === 4 ? 'IPv4' : 'IPv6')) return entry.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}

/** Validates `Cluster.start` options; throws {@link InvalidConfigError} naming the first bad field. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'an object');
  const o = options as ClusterOptions;
  const name = checkName(o.nodeName, 'nodeName');
  const clusterName = o.clusterName === undefined ? 'default' : checkName(o.clusterName, 'clusterName');
  const profile = o.profile ?? 'lan';
  if (!PROFILES.includes(profile)) fail('profile', `one of ${PROFILES.join(', ')}`);
  const defaults = profileDefaults(profile);
  for (const key of Object.keys(o)) {
    // A misspelt option would otherwise be ignored without a word.
    if (!OTHER_OPTIONS.has(key) && !(key in defaults)) fail(key, 'not a known option');
  }
  const config = checkProtocol(o, defaults);
  const ioThread = o.ioThread ?? 'shared';
  if (!IO_THREADS.includes(ioThread)) fail('ioThread', `one of ${IO_THREADS.join(', ')}`);
  const bind = parseHostPort(o.bind ?? '0.0.0.0:7946', 'bind', true);
  const resolved: ResolvedOptions = {
    clusterName,
    name,
    bindIp: bind.host,
    bindPort: bind.port,
    profile,
    config,
    resources: checkResources(o.resources, 'resources', NO_RESOURCES),
    tags: checkTags(o.tags, 'tags'),
    ioThread,
    keys: [],
    incarnation: checkIncarnation(o.incarnation),
    logger: o.logger === undefined ? silentLogger : checkLogger(o.logger, 'logger'),
  };
  if (o.advertise !== undefined) {
    const advertise = parseHostPort(o.advertise, 'advertise', true);
    if (advertise.port === 0) fail('advertise', 'a port from 1 to 65535');
    resolved.advertiseIp = advertise.host;
    resolved.advertisePort = advertise.port;
  } else if (bind.host === '0.0.0.0' || bind.host === '::') {
    // The wildcard is not an address others can use: advertise a local interface instead.
    resolved.advertiseIp = pickAdvertiseIp(bind.host === '0.0.0.0' ? 4 : 6);
    resolved.advertisePort = 0; // the port the kernel binds
  }
  // Last, so no other option's error leaves key copies behind.
  resolved.keys = checkKeys(o.keys);
  return resolved;
}
