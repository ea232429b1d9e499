// `npm run bench -- echo [--durationMs 3000] [--window 64] [--repetitions 3]`
// The runtime's packet ceiling (../shared/BENCHMARKS.md, echo). A native client (addon.echo,
// native/runtime/echo.h) keeps `window` PINGs in flight to a running cluster and counts the
// ACKs: each round trip crosses the whole runtime (recvmmsg, decode, engine, encode, sendmmsg).
// In the same run the same client measures a raw recvmmsg/sendmmsg echo server, the ceiling of
// the socket path alone. Both alternate over --repetitions; medians are reported.
//   roundTripsPerSec   PING -> ACK through the runtime
//   rawPacketsPerSec   datagrams echoed by the raw server (round trips through it)
//   ratio              roundTripsPerSec / rawPacketsPerSec
import { createRequire } from 'node:module';
import path from 'node:path';
import { addon, median, report, root } from './_common.mjs';

const require = createRequire(import.meta.url);
const { Cluster } = require(path.join(root, 'dist', 'index.js'));
const log = (message) => process.stderr.write(`echo: ${message}\n`);

export default async function echo(args) {
  const params = {
    durationMs: args.durationMs ?? 3000,
    window: args.window ?? 64,
    repetitions: args.repetitions ?? 3,
    ioThread: args.ioThread ?? 'shared',
  };
  // Probing pushed past the run: the only traffic is the client's.
  const cluster = await Cluster.start({
    nodeName: 'echo-target',
    bind: '127.0.0.201:0',
    probeIntervalMs: 600_000,
    ioThread: params.ioThread,
  });
  const raw = addon.echo.rawServerStart('127.0.0.202');
  // Sealed as a member of the 'default' cluster sends it (labelled with the cluster name).
  const ping = addon.envelope.seal(
    addon.codec.encode([{ type: 'ping', seq: 1, source: 'echo-client', target: 'echo-target' }]),
    null,
    'default',
  );
  const runtimeRates = [];
  const rawRates = [];
  try {
    for (let r = 0; r < params.repetitions; r++) {
      const viaRuntime = addon.echo.client({
        fromIp: '127.0.0.203',
        ip: cluster.address.host,
        port: cluster.address.port,
        packet: ping,
        window: params.window,
        durationMs: params.durationMs,
      });
      const viaRaw = addon.echo.client({
        fromIp: '127.0.0.204',
        ip: '127.0.0.202',
        port: raw.port,
        packet: ping,
        window: params.window,
        durationMs: params.durationMs,
      });
      runtimeRates.push(viaRuntime.received / viaRuntime.seconds);
      rawRates.push(viaRaw.received / viaRaw.seconds);
      log(
        `rep ${r + 1}: runtime ${Math.round(runtimeRates.at(-1))} round trips/s, raw ${Math.round(rawRates.at(-1))}/s`,
      );
      // Let the runtime's JavaScript side catch up with nothing (no events come from pings).
      await new Promise((resolve) => setImmediate(resolve));
    }
    const acks = cluster.stats().packetsOut;
    const roundTripsPerSec = Math.round(median(runtimeRates));
    const rawPacketsPerSec = Math.round(median(rawRates));
    report('echo', params, {
      roundTripsPerSec,
      rawPacketsPerSec,
      ratio: Math.round((roundTripsPerSec / rawPacketsPerSec) * 100) / 100,
      packetsOutByRuntime: acks,
    });
  } finally {
    addon.echo.rawServerStop(raw.id);
    await cluster.shutdown();
  }
}
