// What an operator reads off a running member: probe round-trip times in stats(), the
// starting incarnation option, and the pino-style logger (structured fields, deaths as
// warnings, silent by default, keys never written).
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster, InvalidConfigError, type Logger } from '../../src/index';
import { FAST, waitFor } from './helpers';

interface LogRecord {
  level: string;
  fields: Record<string, unknown>;
  message?: string;
}

function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message?: string): void => {
      records.push({ level, fields, message });
    };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, records };
}

const started: Cluster[] = [];
async function start(options: Parameters<typeof Cluster.start>[0]): Promise<Cluster> {
  const cluster = await Cluster.start({ ...FAST, ...options });
  started.push(cluster);
  return cluster;
}
afterEach(async () => {
  await Promise.all(started.map((c) => c.shutdown()));
  started.length = 0;
});

describe('probe round-trip times in stats()', () => {
  it('count the direct probes acked over loopback, in buckets that sum to the count', async () => {
    const a = await start({ nodeName: 'rtt-a', bind: '127.0.0.151:0' });
    const b = await start({ nodeName: 'rtt-b', bind: '127.0.0.152:0' });
    await b.join([`127.0.0.151:${a.address.port}`]);
    await waitFor('rtt-a has measured some probes', () => a.stats().probeRtt.count >= 3);
    const { probeRtt, acksReceived } = a.stats();
    expect(probeRtt.buckets).toHaveLength(probeRtt.boundsMs.length + 1);
    expect(probeRtt.buckets.reduce((x, y) => x + y, 0)).toBe(probeRtt.count);
    // Each measured probe was acked; acks through helpers are not measured.
    expect(probeRtt.count).toBeLessThanOrEqual(acksReceived);
    // The probe timeout (100 ms here) bounds a direct round trip.
    const within = probeRtt.boundsMs.findIndex((bound) => bound >= 200);
    expect(probeRtt.buckets.slice(0, within + 1).reduce((x, y) => x + y, 0)).toBe(probeRtt.count);
    expect(probeRtt.sumMs).toBeLessThanOrEqual(probeRtt.count * 200);
  });
});

describe('the incarnation option', () => {
  it('starts the member at the incarnation given, and peers see it there', async () => {
    const a = await start({ nodeName: 'inc-a', bind: '127.0.0.153:0', incarnation: 41 });
    expect(a.local.incarnation).toBe(41);
    expect(a.stats().incarnation).toBe(41);
    const b = await start({ nodeName: 'inc-b', bind: '127.0.0.154:0' });
    await b.join([`127.0.0.153:${a.address.port}`]);
    await waitFor('inc-b knows inc-a', () => b.member('inc-a') !== undefined);
    expect(b.member('inc-a')?.incarnation).toBe(41);
  });

  it.each([[-1], [1.5], [2 ** 53], ['3'], [null]])('refuses %j as incarnation, naming the field', async (bad) => {
    const attempt = Cluster.start({ nodeName: 'inc-bad', bind: '127.0.0.153:0', incarnation: bad as number });
    await expect(attempt).rejects.toBeInstanceOf(InvalidConfigError);
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG', field: 'incarnation' });
  });
});

describe('the logger option', () => {
  it('logs start, join, each member event (deaths as warnings) and shutdown with structured fields', async () => {
    const { logger, records } = recordingLogger();
    const a = await start({ nodeName: 'log-a', bind: '127.0.0.155:0', incarnation: 3, logger });
    const startedAt = records.find((r) => r.message === 'cluster started');
    expect(startedAt?.level).toBe('info');
    expect(startedAt?.fields).toMatchObject({
      name: 'log-a',
      address: `127.0.0.155:${a.address.port}`,
      cluster: 'default',
      incarnation: 3,
      encrypted: false,
    });
    const b = await start({ nodeName: 'log-b', bind: '127.0.0.156:0' });
    await b.join([`127.0.0.155:${a.address.port}`]);
    await waitFor('log-a logs log-b joining', () => records.some((r) => r.message === 'member join'));
    expect(records.find((r) => r.message === 'member join')).toMatchObject({
      level: 'info',
      fields: {
        name: 'log-a',
        event: 'join',
        member: 'log-b',
        address: `127.0.0.156:${b.address.port}`,
        state: 'alive',
        incarnation: 0,
        id: b.local.id,
      },
    });
    await b.shutdown(); // silently: log-a has to detect it
    await waitFor('log-a logs log-b dead', () => records.some((r) => r.message === 'member dead'), {
      timeoutMs: 20_000,
    });
    expect(records.find((r) => r.message === 'member dead')).toMatchObject({
      level: 'warn',
      fields: { event: 'dead', member: 'log-b', state: 'dead' },
    });
    expect(records.find((r) => r.message === 'member suspect')?.level).toBe('warn');

    const c = await start({ nodeName: 'log-c', bind: '127.0.0.157:0', logger });
    await c.join([`127.0.0.155:${a.address.port}`]);
    expect(records.find((r) => r.fields.name === 'log-c' && r.message === 'joined')).toMatchObject({
      level: 'info',
      fields: { seeds: [`127.0.0.155:${a.address.port}`], contacted: 1 },
    });
    await c.shutdown();
    expect(records.filter((r) => r.fields.name === 'log-c').at(-1)).toMatchObject({
      level: 'info',
      message: 'cluster stopped',
    });
  });

  it('logs a join that found no seed as a warning naming each seed', async () => {
    const { logger, records } = recordingLogger();
    const a = await start({ nodeName: 'log-lonely', bind: '127.0.0.158:0', logger });
    await expect(a.join(['127.0.0.159:9'])).rejects.toMatchObject({ code: 'ERR_JOIN_FAILED' });
    const failed = records.find((r) => r.message === 'join failed: no seed answered');
    expect(failed?.level).toBe('warn');
    expect(failed?.fields).toMatchObject({ seeds: ['127.0.0.159:9'], attempts: 1 });
    expect(JSON.stringify(failed?.fields.failures)).toContain('127.0.0.159:9');
  });

  it('sums rejected packets into at most one warning a second, by reason', async () => {
    const { logger, records } = recordingLogger();
    const a = await start({ nodeName: 'log-rejects', bind: '127.0.0.167:0', logger });
    const socket = createSocket('udp4');
    try {
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve, reject) =>
          socket.send(Buffer.from(`garbage ${i}`), a.address.port, a.address.host, (e) => (e ? reject(e) : resolve())),
        );
      }
    } finally {
      socket.close();
    }
    const rejected = () => records.filter((r) => r.message === 'packets rejected');
    await waitFor('five rejections logged', () => rejected().reduce((t, r) => t + (r.fields.total as number), 0) === 5);
    for (const record of rejected()) {
      expect(record.level).toBe('warn');
      expect(record.fields).toMatchObject({ name: 'log-rejects', reasons: { bad_magic: record.fields.total } });
      expect(Object.keys(record.fields.reasons as object)).toEqual(['bad_magic']);
    }
    // Five datagrams sent together land in one record, or two if a second boundary fell among them.
    expect(rejected().length).toBeLessThanOrEqual(2);
  });

  it('never writes a key: not at start, not in keyring changes, in no encoding', async () => {
    const { logger, records } = recordingLogger();
    const first = randomBytes(32);
    const second = randomBytes(16);
    const encodings = (key: Buffer) => [key.toString('base64'), key.toString('hex'), key.toString('base64url')];
    const secrets = [...encodings(first), ...encodings(second)];
    const a = await start({
      nodeName: 'log-keys',
      bind: '127.0.0.160:0',
      keys: [first.toString('base64')],
      logger,
    });
    const id = a.keys.add(second);
    a.keys.use(second.toString('base64'));
    a.keys.remove(a.keys.list().find((k) => k.id !== id)?.id as string);
    await a.shutdown();
    expect(records.find((r) => r.message === 'cluster started')?.fields.encrypted).toBe(true);
    const changes = records.filter((r) => r.message === 'keyring changed');
    expect(changes.map((r) => r.fields.action)).toEqual(['add', 'use', 'remove']);
    expect(changes.at(-1)?.fields).toMatchObject({ keys: [id], primary: id });
    const written = JSON.stringify(records, (_key, value) =>
      Buffer.isBuffer(value) || value instanceof Uint8Array ? `<bytes ${Buffer.from(value).toString('hex')}>` : value,
    );
    for (const secret of secrets) expect(written).not.toContain(secret);
  });

  it('is silent by default: a member started without a logger writes nothing to stdout or stderr', async () => {
    const writes: string[] = [];
    const spy = (stream: NodeJS.WriteStream) => {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
        writes.push(String(chunk));
        return original(chunk, ...rest);
      }) as typeof stream.write;
      return () => {
        stream.write = original;
      };
    };
    const restore = [spy(process.stdout), spy(process.stderr)];
    try {
      const a = await start({ nodeName: 'log-quiet', bind: '127.0.0.161:0' });
      await expect(a.join(['127.0.0.162:9'])).rejects.toMatchObject({ code: 'ERR_JOIN_FAILED' });
      await a.shutdown();
    } finally {
      for (const undo of restore) undo();
    }
    expect(writes).toEqual([]);
  });

  it('refuses a logger without the four level methods, naming the field', async () => {
    const attempt = Cluster.start({
      nodeName: 'log-bad',
      bind: '127.0.0.161:0',
      logger: { info() {}, warn() {}, error() {} } as unknown as Logger,
    });
    await expect(attempt).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG', field: 'logger' });
  });

  it('keeps running and delivering events when the logger throws', async () => {
    const throwing: Logger = {
      debug() {
        throw new Error('disk full');
      },
      info() {
        throw new Error('disk full');
      },
      warn() {
        throw new Error('disk full');
      },
      error() {
        throw new Error('disk full');
      },
    };
    const a = await start({ nodeName: 'log-throws', bind: '127.0.0.163:0', logger: throwing });
    const joined = new Promise<string>((resolve) => a.once('join', (m) => resolve(m.name)));
    const b = await start({ nodeName: 'log-fine', bind: '127.0.0.164:0' });
    await b.join([`127.0.0.163:${a.address.port}`]);
    expect(await joined).toBe('log-fine');
    expect(a.running).toBe(true);
  });
});
