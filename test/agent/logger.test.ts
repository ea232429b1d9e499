// Logs: the JSON-lines logger the agent uses by default, and any pino-style logger given to an
// agent receiving structured fields (member, state, incarnation) for each membership change.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Agent } from '../../src/agent/agent';
import { jsonLinesLogger, type Logger, parseLogLevel } from '../../src/agent/logger';
import { waitFor } from './agent-process';
import { QUICK } from './http-client';

function recordingLogger() {
  const records: { level: string; fields: Record<string, unknown>; message?: string }[] = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message?: string): void => {
      records.push({ level, fields, message });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, records };
}

describe('jsonLinesLogger', () => {
  it('writes one JSON object per line: level, time, message, then the structured fields', () => {
    const lines: string[] = [];
    const log = jsonLinesLogger((line) => lines.push(line), 'debug', { agent: 'x' });
    log.info({ member: 'api-2', incarnation: 3 }, 'member join');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    const record = JSON.parse(lines[0] as string);
    expect(record).toMatchObject({ level: 'info', agent: 'x', msg: 'member join', member: 'api-2', incarnation: 3 });
    expect(Math.abs(record.time - Date.now())).toBeLessThan(5000);
  });

  it('drops records below its level and writes nothing at all when silent', () => {
    const lines: string[] = [];
    const warn = jsonLinesLogger((line) => lines.push(line), 'warn');
    warn.debug({}, 'a');
    warn.info({}, 'b');
    warn.warn({}, 'c');
    warn.error({}, 'd');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['c', 'd']);
    const silent = jsonLinesLogger((line) => lines.push(line), 'silent');
    silent.error({}, 'e');
    expect(lines).toHaveLength(2);
  });

  it('writes an error field as its message and code rather than {}', () => {
    const lines: string[] = [];
    const log = jsonLinesLogger((line) => lines.push(line));
    log.error({ error: Object.assign(new Error('port in use'), { code: 'ERR_BIND' }) }, 'failed');
    expect(JSON.parse(lines[0] as string).error).toEqual({ message: 'port in use', code: 'ERR_BIND' });
  });

  it('knows the level names and nothing else', () => {
    expect(['debug', 'info', 'warn', 'error', 'silent'].map(parseLogLevel)).toEqual([
      'debug',
      'info',
      'warn',
      'error',
      'silent',
    ]);
    expect(parseLogLevel('verbose')).toBeUndefined();
    expect(parseLogLevel('toString')).toBeUndefined();
  });
});

describe('an agent with a pino-style logger', () => {
  const agents: Agent[] = [];
  afterEach(async () => {
    await Promise.all(agents.map((a) => a.shutdown()));
    agents.length = 0;
  });

  it('logs its start, each join and each death with structured fields, deaths as warnings', async () => {
    const { logger, records } = recordingLogger();
    const a = await Agent.start({ ...QUICK, nodeName: 'lg-a', bind: '127.0.0.101:0', logger });
    agents.push(a);
    const b = await Agent.start({
      ...QUICK,
      nodeName: 'lg-b',
      bind: '127.0.0.102:0',
      join: [`127.0.0.101:${a.cluster.address.port}`],
    });
    agents.push(b);
    await b.join();
    await waitFor('lg-a logs lg-b joining', () => records.some((r) => r.message === 'member join'));
    const started = records.find((r) => r.message === 'agent started');
    expect(started?.level).toBe('info');
    expect(started?.fields).toMatchObject({ name: 'lg-a', cluster: 'default', profile: 'local' });
    const join = records.find((r) => r.message === 'member join');
    expect(join?.level).toBe('info');
    expect(join?.fields).toMatchObject({ event: 'join', member: 'lg-b', state: 'alive', incarnation: 0 });
    expect(join?.fields.address).toBe(`127.0.0.102:${b.cluster.address.port}`);
    await b.shutdown(); // gone without a word: lg-a must detect it
    await waitFor('lg-a logs lg-b dead', () => records.some((r) => r.message === 'member dead'));
    const dead = records.find((r) => r.message === 'member dead');
    expect(dead?.level).toBe('warn');
    expect(dead?.fields).toMatchObject({ event: 'dead', member: 'lg-b', state: 'dead' });
  });

  it('writes nothing anywhere when given no logger', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    const stdout = vi.spyOn(process.stdout, 'write');
    try {
      const a = await Agent.start({ ...QUICK, nodeName: 'lg-quiet', bind: '127.0.0.103:0' });
      agents.push(a);
      await a.join();
      await a.shutdown();
      expect(stderr).not.toHaveBeenCalled();
      expect(stdout).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
    }
  });
});
