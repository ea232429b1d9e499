// The agent's HTTP endpoint, in this process: the JSON API the CLI uses, its refusals, the live
// feed (server-sent events) and the status page's files.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent';
import { waitFor } from './agent-process';
import { fetchFrom, QUICK } from './http-client';

describe('agent HTTP endpoint', () => {
  let a: Agent;
  let b: Agent;

  beforeAll(async () => {
    a = await Agent.start({ ...QUICK, nodeName: 'h-a', bind: '127.0.0.81:0', http: '127.0.0.81:0' });
    b = await Agent.start({
      ...QUICK,
      nodeName: 'h-b',
      bind: '127.0.0.82:0',
      http: '127.0.0.82:0',
      join: [`${a.cluster.address.host}:${a.cluster.address.port}`],
      tags: { role: 'web' },
    });
    expect((await b.join()).contacted).toBe(1);
    await waitFor('h-a sees h-b alive', () => a.cluster.member('h-b')?.state === 'alive');
  });
  afterAll(async () => {
    await Promise.all([a?.shutdown(), b?.shutdown()]);
  });

  it('serves the members, the agent itself and the stats as JSON', async () => {
    const members = await fetchFrom(a.httpAddress as string, 'GET', '/v1/members');
    expect(members.status).toBe(200);
    expect(members.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = members.json() as { local: string; members: { name: string; tags: Record<string, string> }[] };
    expect(body.local).toBe('h-a');
    expect(body.members.map((m) => m.name).sort()).toEqual(['h-a', 'h-b']);
    expect(body.members.find((m) => m.name === 'h-b')?.tags).toEqual({ role: 'web' });
    const self = (await fetchFrom(a.httpAddress as string, 'GET', '/v1/agent')).json();
    expect(self).toMatchObject({ name: 'h-a', clusterName: 'default', http: a.httpAddress, pid: process.pid });
    const stats = (await fetchFrom(a.httpAddress as string, 'GET', '/v1/stats')).json();
    expect(stats.alive).toBe(2);
    expect(stats.members).toBe(2);
    expect(stats.rejected).toBeTypeOf('object');
  });

  it('updates the member through POST /v1/update and says which field is wrong when one is', async () => {
    const ok = await fetchFrom(b.httpAddress as string, 'POST', '/v1/update', {
      body: { resources: { maxInstances: 9 } },
    });
    expect(ok.status).toBe(200);
    expect((ok.json().member as { resources: { maxInstances: number } }).resources.maxInstances).toBe(9);
    await waitFor('h-a sees the update', () => a.cluster.member('h-b')?.resources.maxInstances === 9);
    const bad = await fetchFrom(b.httpAddress as string, 'POST', '/v1/update', {
      body: { resources: { cpuTotal: -2 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'ERR_INVALID_CONFIG' });
    expect((bad.json().error as { message: string }).message).toContain('resources.cpuTotal');
  });

  it.each([
    ['an unknown path', 'GET', '/v2/members', {}, 404, 'ERR_NOT_FOUND'],
    ['a wrong method', 'DELETE', '/v1/members', {}, 405, 'ERR_METHOD'],
    ['a POST that is not JSON', 'POST', '/v1/leave', { raw: Buffer.from('x=1') }, 415, 'ERR_CONTENT_TYPE'],
    [
      'a POST from a foreign web page',
      'POST',
      '/v1/leave',
      { body: {}, headers: { Origin: 'http://evil.example' } },
      403,
      'ERR_ORIGIN',
    ],
    [
      'a body that is not JSON',
      'POST',
      '/v1/force-leave',
      { raw: Buffer.from('{'), headers: { 'Content-Type': 'application/json' } },
      400,
      'ERR_BAD_REQUEST',
    ],
    ['a body over 64 KiB', 'POST', '/v1/update', { body: { tags: { big: 'x'.repeat(70_000) } } }, 413, 'ERR_TOO_LARGE'],
    ['force-leave without a name', 'POST', '/v1/force-leave', { body: {} }, 400, 'ERR_BAD_REQUEST'],
    ['force-leave of a live member', 'POST', '/v1/force-leave', { body: { name: 'h-b' } }, 404, 'ERR_UNKNOWN_MEMBER'],
    ['listing keys of an agent started without keys', 'GET', '/v1/keys', {}, 400, 'ERR_INVALID_CONFIG'],
    [
      'adding a key to an agent started without keys',
      'POST',
      '/v1/keys',
      { body: { action: 'add', key: Buffer.alloc(32).toString('base64') } },
      400,
      'ERR_INVALID_CONFIG',
    ],
  ] as const)('refuses %s with a status and a stable code', async (_what, method, path, options, status, code) => {
    const reply = await fetchFrom(a.httpAddress as string, method, path, options as Parameters<typeof fetchFrom>[3]);
    expect(reply.status).toBe(status);
    expect(reply.json().error).toMatchObject({ code });
    expect(a.running).toBe(true);
    if (status === 405) expect(reply.headers.allow).toBe('GET');
  });

  it('streams the table first, then each membership change and the stats, as server-sent events', async () => {
    const [host, port] = (a.httpAddress as string).split(':');
    const events: { event: string; data: Record<string, unknown> }[] = [];
    const req = request({ host, port: Number(port), path: '/v1/events' });
    const opened = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        let buffer = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          buffer += chunk;
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
          }
        });
        resolve();
      });
      req.on('error', reject);
    });
    req.end();
    try {
      await opened;
      await waitFor('the first event', () => events.length > 0);
      expect(events[0]?.event).toBe('snapshot');
      expect(((events[0]?.data.members ?? []) as { name: string }[]).map((m) => m.name).sort()).toEqual(['h-a', 'h-b']);
      expect(events[0]?.data.name).toBe('h-a');
      await b.cluster.update({ tags: { role: 'db' } });
      await waitFor('the update of h-b on the feed', () =>
        events.some(
          (e) =>
            e.event === 'member' &&
            e.data.type === 'update' &&
            (e.data.member as { name: string; tags: Record<string, string> }).name === 'h-b' &&
            (e.data.member as { tags: Record<string, string> }).tags.role === 'db',
        ),
      );
      await waitFor('a stats event', () => events.some((e) => e.event === 'stats' && e.data.alive === 2), {
        timeoutMs: 5000,
      });
    } finally {
      req.destroy();
    }
  });

  it('serves the status page and its script under a Content-Security-Policy', async () => {
    const page = await fetchFrom(a.httpAddress as string, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.text).toContain('<script src="/status.js"></script>');
    const script = await fetchFrom(a.httpAddress as string, 'GET', '/status.js');
    expect(script.status).toBe(200);
    expect(script.text).toContain("new EventSource('/v1/events')");
    // Peer-controlled text goes in as text: the script never assigns HTML.
    expect(script.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});
