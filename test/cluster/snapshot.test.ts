// What members() shows follows the engine's table even when a change comes with no event:
// a member's incarnation raised by gossip (its metadata unchanged) still shows within a moment.
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from '../../src/index';
import { addon } from '../helpers/addon';
import { FAST, waitFor } from './helpers';

describe('the member snapshot', () => {
  let cluster: Cluster;
  let udp: dgram.Socket;
  const record = (incarnation: number) => ({
    name: 'gossiped',
    id: 77n,
    address: '127.0.0.97',
    port: 9,
    state: 'alive',
    incarnation,
    tags: { kind: 'stand-in' },
  });
  const announce = (incarnation: number) =>
    new Promise<void>((resolve, reject) =>
      udp.send(
        // A cluster without keys takes labelled packets carrying its name ('default').
        addon.envelope.seal(addon.codec.encode([{ type: 'alive', member: record(incarnation) }]), null, 'default'),
        cluster.address.port,
        cluster.address.host,
        (e) => (e ? reject(e) : resolve()),
      ),
    );

  beforeAll(async () => {
    cluster = await Cluster.start({ ...FAST, nodeName: 'observer', bind: '127.0.0.96:0' });
    udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.97', resolve));
  });
  afterAll(async () => {
    udp.close();
    await cluster.shutdown();
  });

  it('shows a gossiped record with NUL bytes in its strings without shifting any field', async () => {
    // Strings are not validated on the wire; the addon hands them over NUL-separated, so an
    // embedded NUL must become U+FFFD rather than split a field in two.
    const hostile = {
      name: 'nul\0name',
      id: 78n,
      address: '127.0.0.98',
      port: 10,
      state: 'alive',
      incarnation: 4,
      resources: { cpuAvailableMilli: 1500 },
      tags: { key: 'va\0lue', plain: 'yes' },
    };
    await new Promise<void>((resolve, reject) =>
      udp.send(
        addon.envelope.seal(addon.codec.encode([{ type: 'alive', member: hostile }]), null, 'default'),
        cluster.address.port,
        cluster.address.host,
        (e) => (e ? reject(e) : resolve()),
      ),
    );
    await waitFor('the hostile record appears', () => cluster.member('nul\ufffdname') !== undefined);
    const m = cluster.member('nul\ufffdname');
    expect(m).toMatchObject({ address: '127.0.0.98', port: 10, incarnation: 4, resources: { cpuAvailable: 1.5 } });
    expect(m?.tags).toEqual({ key: 'va\ufffdlue', plain: 'yes' });
    // Everyone else is intact.
    expect(cluster.member('observer')?.address).toBe('127.0.0.96');
  });

  it('shows an incarnation raised without an event', async () => {
    const events: string[] = [];
    cluster.on('event', (e) => {
      if (e.member.name === 'gossiped') events.push(`${e.type}:${e.member.incarnation}`);
    });
    await announce(1);
    await waitFor('the gossiped member appears', () => cluster.member('gossiped')?.incarnation === 1);
    await announce(5);
    await waitFor('its new incarnation shows', () => cluster.member('gossiped')?.incarnation === 5);
    // Same metadata: the engine reports no event for it, only the table changed.
    expect(events).toEqual(['join:1']);
  });
});
