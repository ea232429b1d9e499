// The agent's local HTTP endpoint: the JSON API the CLI talks to (/v1/...), /metrics for
// Prometheus, and the status page at / with its live feed (/v1/events, server-sent events).
// It binds to loopback unless told otherwise: it can make the member leave.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseHostPort } from '../config.js';
import { type ClusterEvent, ConstellationError, InvalidConfigError } from '../index.js';
import { type Agent, hostPort } from './agent.js';
import { keyringOf } from './keys.js';
import { STATUS_PAGE_HTML, STATUS_PAGE_SCRIPT } from './status-page.js';

/** The running endpoint. */
export interface AgentHttp {
  /** `host:port` it listens on (the bound port when 0 was asked). */
  readonly address: string;
  /** Ends the live feeds and closes the server. */
  close(): Promise<void>;
}

/** Largest request body accepted (the API takes a name, a key or a few resources). */
const MAX_BODY_BYTES = 64 * 1024;
/** A comment line on every live feed this often, so proxies and browsers keep it open. */
const KEEPALIVE_MS = 15_000;
/** The live feed also carries the member's stats this often. */
const STATS_EVERY_MS = 1000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the endpoint on `bind` (`host:port`, numeric host). */
export async function startAgentHttp(agent: Agent, bind: string): Promise<AgentHttp> {
  const { host, port } = parseHostPort(bind, 'http', true);
  let registry: Registry | undefined;
  const feeds = new Set<ServerResponse>();

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => replyError(response, error));
  });
  // The page, the CLI and scrapers make short requests; the live feed is the long one.
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 30_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://agent');
    const route = `${request.method} ${url.pathname}`;
    if (request.method === 'POST') checkPostOrigin(request);
    switch (route) {
      case 'GET /':
        return send(response, 200, STATUS_PAGE_HTML, 'text/html; charset=utf-8');
      case 'GET /status.js':
        return send(response, 200, STATUS_PAGE_SCRIPT, 'text/javascript; charset=utf-8');
      case 'GET /metrics': {
        // prom-client loads on the first scrape, not with every CLI command.
        registry ??= (await import('./metrics.js')).clusterMetrics(agent.cluster);
        return send(response, 200, await registry.metrics(), registry.contentType);
      }
      case 'GET /v1/agent':
        return json(response, 200, describe(agent));
      case 'GET /v1/members':
        return json(response, 200, { local: agent.cluster.local.name, members: agent.members() });
      case 'GET /v1/stats':
        return json(response, 200, agent.cluster.stats());
      case 'GET /v1/events':
        return openFeed(request, response);
      case 'POST /v1/leave': {
        // Resolves once the member has left; the server closes after this reply (close() waits
        // for the connection, which the reply ends).
        await agent.leave();
        response.setHeader('Connection', 'close');
        return json(response, 200, { left: true });
      }
      case 'POST /v1/force-leave': {
        const body = await readJson(request);
        if (typeof body.name !== 'string' || body.name.length === 0)
          throw new HttpError(400, 'ERR_BAD_REQUEST', 'body.name must be a non-empty string');
        await agent.cluster.forceLeave(body.name);
        return json(response, 200, { forced: body.name });
      }
      case 'POST /v1/update': {
        const body = await readJson(request);
        const change: { resources?: Record<string, number>; tags?: Record<string, string> } = {};
        if (body.resources !== undefined) change.resources = body.resources as Record<string, number>;
        if (body.tags !== undefined) change.tags = body.tags as Record<string, string>;
        await agent.cluster.update(change);
        return json(response, 200, { member: agent.cluster.local });
      }
      case 'GET /v1/keys':
        return json(response, 200, { keys: await keyringOf(agent.cluster).list() });
      case 'POST /v1/keys': {
        const body = await readJson(request);
        const keyring = keyringOf(agent.cluster);
        const { action, key } = body;
        if (action !== 'add' && action !== 'use' && action !== 'remove')
          throw new HttpError(400, 'ERR_BAD_REQUEST', 'body.action must be one of add, use, remove');
        if (typeof key !== 'string' || key.length === 0)
          throw new HttpError(400, 'ERR_BAD_REQUEST', 'body.key must be a base64 key');
        // The cluster logs the change (by key id) through the same logger.
        await keyring[action](key);
        return json(response, 200, { keys: await keyring.list() });
      }
      default: {
        const known = ROUTES.filter((r) => r.endsWith(` ${url.pathname}`));
        if (known.length > 0) {
          response.setHeader('Allow', known.map((r) => r.split(' ')[0]).join(', '));
          throw new HttpError(405, 'ERR_METHOD', `${request.method} is not allowed on ${url.pathname}`);
        }
        throw new HttpError(404, 'ERR_NOT_FOUND', `no such endpoint: ${url.pathname}`);
      }
    }
  }

  function openFeed(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    const write = (event: string, data: unknown) =>
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    write('snapshot', { ...describe(agent), members: agent.members(), recent: agent.recent });
    const onEvent = (event: ClusterEvent) => write('member', event);
    agent.on('event', onEvent);
    const stats = setInterval(() => {
      if (agent.cluster.running) write('stats', agent.cluster.stats());
    }, STATS_EVERY_MS);
    const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
    feeds.add(response);
    const end = () => {
      clearInterval(stats);
      clearInterval(keepalive);
      agent.off('event', onEvent as (...args: never[]) => void);
      feeds.delete(response);
    };
    request.on('close', end);
    response.on('close', end);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => agent.logger.error({ error }, 'HTTP endpoint error'));
  const bound = server.address() as AddressInfo;
  const address = hostPort(bound.address, bound.port);
  agent.logger.debug({ http: address }, 'HTTP endpoint listening');

  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        for (const feed of feeds) feed.end();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

const ROUTES = [
  'GET /',
  'GET /status.js',
  'GET /metrics',
  'GET /v1/agent',
  'GET /v1/members',
  'GET /v1/stats',
  'GET /v1/events',
  'POST /v1/leave',
  'POST /v1/force-leave',
  'POST /v1/update',
  'GET /v1/keys',
  'POST /v1/keys',
];

function describe(agent: Agent) {
  const local = agent.cluster.local;
  return {
    name: local.name,
    address: hostPort(local.address, local.port),
    clusterName: agent.cluster.clusterName,
    http: agent.httpAddress,
    pid: process.pid,
  };
}

// A web page the operator visits must not be able to make the agent leave: browsers send a
// JSON content type or a foreign Origin only after a CORS preflight, which this server refuses.
function checkPostOrigin(request: IncomingMessage): void {
  const type = request.headers['content-type'] ?? '';
  if (!type.startsWith('application/json'))
    throw new HttpError(415, 'ERR_CONTENT_TYPE', 'POST bodies must be application/json');
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${request.headers.host}`)
    throw new HttpError(403, 'ERR_ORIGIN', `requests from ${origin} are not accepted`);
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'ERR_TOO_LARGE', `bodies are limited to ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'ERR_BAD_REQUEST', 'the body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'ERR_BAD_REQUEST', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function send(response: ServerResponse, status: number, body: string, type: string): void {
  response.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  });
  response.end(body);
}

function json(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, `${JSON.stringify(value)}\n`, 'application/json; charset=utf-8');
}

const STATUS_OF: Record<string, number> = {
  ERR_INVALID_CONFIG: 400,
  ERR_UNKNOWN_MEMBER: 404,
  ERR_NOT_RUNNING: 503,
  ERR_METADATA_TOO_LARGE: 400,
  ERR_ENCRYPTION_UNAVAILABLE: 501,
};

function replyError(response: ServerResponse, error: unknown): void {
  let status = 500;
  let code = 'ERR_INTERNAL';
  let message = (error as Error)?.message ?? String(error);
  if (error instanceof HttpError) {
    status = error.status;
    code = error.code;
  } else if (error instanceof ConstellationError || typeof (error as { code?: unknown })?.code === 'string') {
    code = (error as { code: string }).code;
    status = Object.hasOwn(STATUS_OF, code) ? (STATUS_OF[code] as number) : 500;
    if (error instanceof InvalidConfigError) message = error.message;
  }
  if (response.headersSent) {
    response.end();
    return;
  }
  json(response, status, { error: { code, message } });
}
