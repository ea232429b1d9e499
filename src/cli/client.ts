// The CLI's side of the agent's HTTP endpoint: JSON requests and the server-sent event feed.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { CommandError } from './args.js';

export { DEFAULT_HTTP } from './help.js';

function split(address: string): { hostname: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!match) throw new CommandError(`bad agent address '${address}'`);
  return { hostname: match[1] as string, port: Number(match[2]) };
}

function unreachable(address: string, error: Error): CommandError {
  return new CommandError(
    `no agent answering at http://${address} (${(error as NodeJS.ErrnoException).code ?? error.message}); ` +
      `is \`constellation agent --http ${address}\` running?`,
  );
}

/** One JSON request; agent errors become CommandErrors carrying the agent's code and message. */
export function call(
  address: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<unknown> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        ...split(address),
        method,
        path,
        headers: payload
          ? { 'Content-Type': 'application/json', 'Content-Length': payload.length }
          : method === 'POST'
            ? { 'Content-Type': 'application/json', 'Content-Length': 0 }
            : {},
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => reject(unreachable(address, error)));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            reject(new CommandError(`the agent at ${address} answered ${response.statusCode} with something not JSON`));
            return;
          }
          const failure = (value as { error?: { code?: string; message?: string } }).error;
          if ((response.statusCode ?? 500) >= 400 || failure) {
            const error = new CommandError(failure?.message ?? `the agent answered ${response.statusCode}`);
            Object.assign(error, { code: failure?.code });
            reject(error);
            return;
          }
          resolve(value);
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) => reject(unreachable(address, error)));
    request.end(payload);
  });
}

/** One server-sent event. */
export interface FeedEvent {
  readonly event: string;
  readonly data: unknown;
}

/**
 * Follows the agent's /v1/events feed, calling `onEvent` for each event; resolves when the agent
 * closes the feed (it stopped), rejects when it cannot connect.
 */
export function follow(address: string, onEvent: (event: FeedEvent) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ ...split(address), method: 'GET', path: '/v1/events', signal }, (response) => {
      if (response.statusCode !== 200) {
        reject(new CommandError(`the agent at ${address} answered ${response.statusCode} for /v1/events`));
        response.resume();
        return;
      }
      readFeed(response, onEvent).then(resolve, reject);
    });
    request.on('error', (error) => {
      if (error.name === 'AbortError') resolve();
      else reject(unreachable(address, error));
    });
    request.end();
  });
}

async function readFeed(response: IncomingMessage, onEvent: (event: FeedEvent) => void): Promise<void> {
  response.setEncoding('utf8');
  let buffer = '';
  try {
    for await (const chunk of response) {
      buffer += chunk as string;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
        }
        if (data.length > 0) onEvent({ event, data: JSON.parse(data.join('\n')) });
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError' && (error as NodeJS.ErrnoException).code !== 'ECONNRESET') throw error;
  }
}
