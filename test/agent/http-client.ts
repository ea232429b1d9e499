// Plain HTTP requests to an agent's endpoint for the in-process agent tests, and the quick
// protocol timings those tests run with.
import { request } from 'node:http';
import type { ClusterOptions } from '../../src/index';

/** Protocol timings tighter than the local profile, so these tests wait less. */
export const QUICK: Partial<ClusterOptions> = {
  profile: 'local',
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  gossipIntervalMs: 50,
  suspicionMult: 3,
  suspicionMaxTimeoutMult: 3,
  pushPullIntervalMs: 2000,
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

/** One HTTP request to `address`; the body is sent as JSON unless `raw` is given. */
export function fetchFrom(
  address: string,
  method: string,
  path: string,
  { body, headers = {}, raw }: { body?: unknown; headers?: Record<string, string>; raw?: Buffer } = {},
): Promise<Reply> {
  const [host, port] = address.split(':');
  const payload = raw ?? (body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port: Number(port),
        method,
        path,
        headers: {
          ...(payload && !raw ? { 'Content-Type': 'application/json' } : {}),
          ...(payload ? { 'Content-Length': payload.length } : {}),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
