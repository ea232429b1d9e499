// Profiles start from memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig;
// every field can be overridden; a bad value fails fast naming its field.
import { describe, expect, it } from 'vitest';
import { codec, engineModule, record } from './harness';

describe('profiles', () => {
  it('lan is memberlist DefaultLANConfig with the simulator-tuned probe period, indirectChecks and suspicionMult', () => {
    // docs/tuning.md: a 800 ms period, 5 indirect checks and suspicionMult 3 (keeping
    // memberlist's K = 2 confirmations) detect faster with no more false deaths.
    expect(engineModule.profile('lan')).toMatchObject({
      probeIntervalMs: 800,
      probeTimeoutMs: 400,
      indirectChecks: 5,
      retransmitMult: 4,
      suspicionMult: 3,
      suspicionMaxTimeoutMult: 6,
      suspicionConfirmations: 2,
      gossipNodes: 3,
      gossipIntervalMs: 200,
      pushPullIntervalMs: 30000,
      gossipToTheDeadMs: 30000,
      awarenessMaxMultiplier: 8,
      streamTimeoutMs: 10000,
      tcpFallbackProbe: true,
      mtu: 1400,
      maxRecordBytes: 1024,
    });
  });

  it('wan matches memberlist DefaultWANConfig', () => {
    expect(engineModule.profile('wan')).toMatchObject({
      probeIntervalMs: 5000,
      probeTimeoutMs: 3000,
      suspicionMult: 6,
      suspicionConfirmations: 4,
      pushPullIntervalMs: 60000,
      gossipNodes: 4,
      gossipIntervalMs: 500,
      gossipToTheDeadMs: 60000,
      streamTimeoutMs: 30000,
      indirectChecks: 3,
      retransmitMult: 4,
    });
  });

  it('local matches memberlist DefaultLocalConfig', () => {
    expect(engineModule.profile('local')).toMatchObject({
      probeIntervalMs: 1000,
      probeTimeoutMs: 200,
      indirectChecks: 1,
      retransmitMult: 2,
      suspicionMult: 3,
      suspicionConfirmations: 1,
      pushPullIntervalMs: 15000,
      gossipIntervalMs: 100,
      gossipToTheDeadMs: 15000,
      streamTimeoutMs: 1000,
    });
  });
});

describe('overrides and validation', () => {
  const local = codec.encode([{ type: 'alive', member: record('a') }]);
  const make = (config: Record<string, number | boolean>) =>
    new engineModule.Engine({ local, seed: 1, profile: 'lan', config });

  it('any field can be overridden', () => {
    const e = make({ probeIntervalMs: 700, gossipNodes: 5, tcpFallbackProbe: false });
    expect(e.config()).toMatchObject({
      probeIntervalMs: 700,
      gossipNodes: 5,
      tcpFallbackProbe: false,
      probeTimeoutMs: 400,
    });
  });

  it.each([
    [{ probeIntervalMs: 0 }, 'probe_interval_ms'],
    [{ probeTimeoutMs: 2000 }, 'probe_timeout_ms'],
    [{ retransmitMult: 0 }, 'retransmit_mult'],
    [{ suspicionMult: 0 }, 'suspicion_mult'],
    [{ suspicionConfirmations: 65 }, 'suspicion_confirmations'],
    [{ awarenessMaxMultiplier: 0 }, 'awareness_max_multiplier'],
    [{ mtu: 100 }, 'mtu'],
    [{ maxRecordBytes: 70000 }, 'max_record_bytes'],
    [{ gossipIntervalMs: -5 }, 'gossip_interval_ms'],
  ])('%o is refused with a message naming %s', (config, field) => {
    expect(() => make(config)).toThrow(field);
  });

  it('a local record larger than maxRecordBytes is refused', () => {
    const big = codec.encode([{ type: 'alive', member: record('a', { tags: { blob: 'x'.repeat(300) } }) }]);
    expect(() => new engineModule.Engine({ local: big, seed: 1, config: { maxRecordBytes: 128 } })).toThrow(
      'max_record_bytes',
    );
  });
});
