// Persistence of what a member knows, so a restarted agent rejoins without seeds: an append-only
// file of records (our own incarnation, each member seen with its address and state), replayed
// at start and rewritten (compacted) when it has grown well past what it describes.
//
// Layout: the 8-byte magic `CSNAP001`, then records of [u32 BE length][u32 BE crc32 of the
// payload][payload: UTF-8 JSON]. A crash can tear the last record; a disk can rot one. Reading
// stops at the first record whose length is impossible, whose bytes run past the end or whose
// checksum fails; the file is cut back to the last good record so new records never follow
// garbage. Nothing in the file can make opening it fail, except a file that is not a snapshot
// at all (a wrong path should not be overwritten).
import { constants, type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { Logger } from './logger.js';
import { silentLogger } from './logger.js';

const MAGIC = Buffer.from('CSNAP001', 'latin1');
const HEADER_BYTES = 8;
/** A record is a member's name, address and state: far below this. Larger means corruption. */
const MAX_RECORD_BYTES = 64 * 1024;
/** Snapshots are read whole at start; a larger file is cut at this size (the rest is ignored). */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** What the snapshot remembers about one member. */
export interface RememberedMember {
  /** Its name. */
  readonly name: string;
  /** Its IP address when last seen. */
  readonly address: string;
  /** Its port when last seen. */
  readonly port: number;
  /** Its state when last seen (`alive`, `suspect`, `dead`, `left`). */
  readonly state: string;
  /** Its incarnation when last seen. */
  readonly incarnation: number;
}

/** Everything read back from a snapshot. */
export interface SnapshotContents {
  /** The name of the member that wrote it, if it wrote its own record. */
  readonly self:
    | {
        /** The member's name. */
        readonly name: string;
        /** The highest incarnation it recorded for itself. */
        readonly incarnation: number;
      }
    | undefined;
  /** Members it knew, by name. */
  readonly members: ReadonlyMap<string, RememberedMember>;
  /** Good records read. */
  readonly records: number;
  /** Bytes of torn or corrupt tail ignored (and cut off). */
  readonly discardedBytes: number;
}

type SnapshotRecord =
  | { t: 'self'; name: string; incarnation: number }
  | { t: 'member'; name: string; address: string; port: number; state: string; incarnation: number }
  | { t: 'forget'; name: string };

/** Options of {@link Snapshot.open}. */
export interface SnapshotOptions {
  /** Compact once the file is this many bytes and four times what a fresh one would be. Default 1 MiB. */
  compactBytes?: number;
  /** Where write and compaction failures are reported. Default: silent. */
  logger?: Logger;
}

function encode(record: SnapshotRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

function isRecord(value: unknown): value is SnapshotRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (typeof r.name !== 'string' || r.name.length === 0) return false;
  switch (r.t) {
    case 'self':
      return Number.isSafeInteger(r.incarnation) && (r.incarnation as number) >= 0;
    case 'member':
      return (
        typeof r.address === 'string' &&
        Number.isInteger(r.port) &&
        (r.port as number) > 0 &&
        (r.port as number) <= 65535 &&
        typeof r.state === 'string' &&
        Number.isSafeInteger(r.incarnation)
      );
    case 'forget':
      return true;
    default:
      return false;
  }
}

/** Replays the records of `bytes` (magic included); stops at the first bad one. */
export function parseSnapshot(bytes: Buffer): SnapshotContents & { goodBytes: number } {
  let self: SnapshotContents['self'];
  const members = new Map<string, RememberedMember>();
  let offset = MAGIC.length;
  let records = 0;
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const checksum = bytes.readUInt32BE(offset + 4);
    const end = offset + HEADER_BYTES + length;
    if (length === 0 || length > MAX_RECORD_BYTES || end > bytes.length) break;
    const payload = bytes.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) !== checksum) break;
    let record: unknown;
    try {
      record = JSON.parse(payload.toString('utf8'));
    } catch {
      break;
    }
    if (!isRecord(record)) break;
    if (record.t === 'self') self = { name: record.name, incarnation: record.incarnation };
    else if (record.t === 'member') {
      const { name, address, port, state, incarnation } = record;
      members.set(name, { name, address, port, state, incarnation });
    } else members.delete(record.name);
    records++;
    offset = end;
  }
  const goodBytes = Math.min(offset, bytes.length);
  return { self, members, records, discardedBytes: bytes.length - goodBytes, goodBytes };
}

/**
 * An open snapshot file. Writes are queued and appended in the background (never awaited by the
 * caller, one write in flight at a time); `flush` waits for what is queued, `close` flushes and
 * closes.
 */
export class Snapshot {
  /** The file. */
  readonly path: string;
  readonly #logger: Logger;
  readonly #compactBytes: number;
  #handle: FileHandle | undefined;
  #size: number;
  #queue: Buffer[] = [];
  #writing: Promise<void> | undefined;
  #closed = false;
  // The state the file describes, kept so a compaction can write it out fresh.
  #self: { name: string; incarnation: number } | undefined;
  readonly #members = new Map<string, RememberedMember>();
  /** Names the member still knows; on compaction, the others are dropped. */
  #live: (() => Iterable<string>) | undefined;

  private constructor(
    path: string,
    handle: FileHandle,
    size: number,
    contents: SnapshotContents,
    options: SnapshotOptions,
  ) {
    this.path = path;
    this.#handle = handle;
    this.#size = size;
    this.#logger = options.logger ?? silentLogger;
    this.#compactBytes = options.compactBytes ?? 1024 * 1024;
    this.#self = contents.self ? { ...contents.self } : undefined;
    for (const [name, m] of contents.members) this.#members.set(name, m);
  }

  /**
   * Opens (or creates) the snapshot at `path` and reads it. A torn or corrupt tail is cut off
   * and reported in `contents.discardedBytes`; a file that is not a snapshot is refused.
   */
  static async open(
    path: string,
    options: SnapshotOptions = {},
  ): Promise<{
    /** The open file, ready for appends. */
    snapshot: Snapshot;
    /** What it held. */
    contents: SnapshotContents;
  }> {
    const logger = options.logger ?? silentLogger;
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      bytes = Buffer.alloc(0);
    }
    if (bytes.length > MAX_FILE_BYTES) bytes = bytes.subarray(0, MAX_FILE_BYTES);
    let contents: SnapshotContents & { goodBytes: number };
    if (bytes.length < MAGIC.length) {
      // Empty, or torn while the magic itself was being written: start afresh.
      if (!MAGIC.subarray(0, bytes.length).equals(bytes)) throw notASnapshot(path);
      contents = { self: undefined, members: new Map(), records: 0, discardedBytes: bytes.length, goodBytes: 0 };
    } else {
      if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw notASnapshot(path);
      contents = parseSnapshot(bytes);
    }
    if (contents.discardedBytes > 0) {
      logger.warn(
        { path, discardedBytes: contents.discardedBytes, records: contents.records },
        'snapshot has a torn or corrupt tail; it was cut off',
      );
    }
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT, 0o600);
    try {
      let size = contents.goodBytes;
      if (size === 0) {
        await handle.truncate(0);
        await handle.write(MAGIC, 0, MAGIC.length, 0);
        size = MAGIC.length;
      } else if (contents.discardedBytes > 0) {
        await handle.truncate(size);
      }
      const snapshot = new Snapshot(path, handle, size, contents, options);
      return { snapshot, contents };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Lets compaction drop members that are no longer in `live()` (reaped by the cluster). */
  setLive(live: () => Iterable<string>): void {
    this.#live = live;
  }

  /** The incarnation last recorded for `name` as ourselves (0 when unknown or another name). */
  selfIncarnation(name: string): number {
    return this.#self?.name === name ? this.#self.incarnation : 0;
  }

  /** Members remembered now. */
  members(): RememberedMember[] {
    return [...this.#members.values()];
  }

  /** Records our own incarnation (only when it is new). */
  recordSelf(name: string, incarnation: number): void {
    if (this.#self && this.#self.name === name && this.#self.incarnation === incarnation) return;
    this.#self = { name, incarnation };
    this.#append({ t: 'self', name, incarnation });
  }

  /** Records a member's address and state (only when one of them changed). */
  recordMember(member: RememberedMember): void {
    const known = this.#members.get(member.name);
    if (
      known &&
      known.address === member.address &&
      known.port === member.port &&
      known.state === member.state &&
      known.incarnation === member.incarnation
    ) {
      return;
    }
    const { name, address, port, state, incarnation } = member;
    this.#members.set(name, { name, address, port, state, incarnation });
    this.#append({ t: 'member', name, address, port, state, incarnation });
  }

  /** Forgets a member. */
  forget(name: string): void {
    if (!this.#members.delete(name)) return;
    this.#append({ t: 'forget', name });
  }

  /** Size of the file, bytes (what has been written). */
  get size(): number {
    return this.#size;
  }

  /** Resolves once every queued record is on disk (in the page cache). */
  async flush(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  /** Flushes and closes; later records are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  /** Rewrites the file with only the current state (atomically: temporary file, fsync, rename). */
  async compact(): Promise<void> {
    await this.flush();
    this.#writing = this.#compact().finally(() => {
      this.#writing = undefined;
      this.#kick();
    });
    await this.#writing;
  }

  #append(record: SnapshotRecord): void {
    if (this.#closed) return;
    this.#queue.push(encode(record));
    this.#kick();
  }

  #kick(): void {
    if (this.#writing || this.#queue.length === 0 || this.#closed) return;
    this.#writing = this.#drain().finally(() => {
      this.#writing = undefined;
      this.#kick();
    });
  }

  async #drain(): Promise<void> {
    const chunk = Buffer.concat(this.#queue);
    this.#queue = [];
    const handle = this.#handle;
    if (!handle) return;
    try {
      await handle.write(chunk, 0, chunk.length, this.#size);
      this.#size += chunk.length;
    } catch (error) {
      // A full or failing disk costs us persistence, never membership: log and carry on.
      this.#logger.error({ path: this.path, error }, 'snapshot write failed');
      return;
    }
    if (this.#size >= this.#compactBytes && this.#size >= 4 * this.#freshBytes()) await this.#compact();
  }

  #freshBytes(): number {
    let bytes = MAGIC.length + 64;
    for (const m of this.#members.values()) bytes += HEADER_BYTES + 80 + m.name.length + m.address.length;
    return bytes;
  }

  async #compact(): Promise<void> {
    if (!this.#handle) return;
    if (this.#live) {
      const live = new Set(this.#live());
      for (const name of [...this.#members.keys()]) if (!live.has(name)) this.#members.delete(name);
    }
    const parts: Buffer[] = [MAGIC];
    if (this.#self) parts.push(encode({ t: 'self', ...this.#self }));
    for (const m of this.#members.values()) parts.push(encode({ t: 'member', ...m }));
    const fresh = Buffer.concat(parts);
    const temporary = `${this.path}.compact`;
    const before = this.#size;
    try {
      const out = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
      try {
        await out.write(fresh, 0, fresh.length, 0);
        await out.datasync();
      } finally {
        await out.close();
      }
      await rename(temporary, this.path);
    } catch (error) {
      this.#logger.error({ path: this.path, error }, 'snapshot compaction failed');
      await unlink(temporary).catch(() => {});
      return;
    }
    await this.#handle.close();
    this.#handle = await open(this.path, constants.O_WRONLY, 0o600);
    this.#size = fresh.length;
    this.#logger.debug({ path: this.path, before, after: fresh.length }, 'snapshot compacted');
  }
}

function notASnapshot(path: string): Error {
  return Object.assign(new Error(`${path} is not a constellation snapshot (its first bytes are not CSNAP001)`), {
    code: 'ERR_NOT_A_SNAPSHOT',
  });
}
