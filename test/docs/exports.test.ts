// The package's entry points as a user imports them (by package name, through package.json
// `exports`): everything the API reference documents is reachable.
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../agent/agent-process';

const requireFromRoot = createRequire(path.join(root, 'package.json'));

describe('package entry points', () => {
  it('the main entry exports the Cluster class, the error classes and the helpers', () => {
    const main = requireFromRoot('@rads/constellation');
    expect(typeof main.Cluster.start).toBe('function');
    for (const name of [
      'BindError',
      'InvalidConfigError',
      'JoinFailedError',
      'MetadataTooLargeError',
      'NotRunningError',
      'UnknownMemberError',
    ]) {
      expect(main[name].prototype, name).toBeInstanceOf(main.ConstellationError);
    }
    expect(typeof main.profileDefaults('lan').probeIntervalMs).toBe('number');
    expect(main.protocolVersion()).toBeGreaterThan(0);
  });

  it('the ./agent entry exports the Agent, its logger helpers, the metrics registry and the snapshot', () => {
    const agent = requireFromRoot('@rads/constellation/agent');
    expect(typeof agent.Agent.start).toBe('function');
    expect(typeof agent.Snapshot.open).toBe('function');
    expect(typeof agent.clusterMetrics).toBe('function');
    expect(agent.METRIC_PREFIX).toBe('constellation_');
    expect(agent.parseLogLevel('warn')).toBe('warn');
    const lines: string[] = [];
    agent.jsonLinesLogger((line: string) => lines.push(line), 'info').info({ member: 'm' }, 'hello');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ level: 'info', msg: 'hello', member: 'm' });
    expect(Object.isFrozen(agent.silentLogger)).toBe(true);
  });
});
