// `npm run bench -- codec [--iterations N] [--repetitions R]`: encode and decode cost per
// message for a mix of message types in compound packets (ping/ack/ping_req/nack probes with
// alive/suspect/dead/leave updates piggybacked), timed inside the addon so no JavaScript
// boundary is counted. Prints the median over R repetitions (../shared/BENCHMARKS.md, codec).
import { addon, median, report } from './_common.mjs';

export default function codec(args) {
  const params = { iterations: args.iterations ?? 200_000, repetitions: args.repetitions ?? 7 };
  addon.codec.benchmark(Math.max(1, params.iterations >> 4)); // warm caches and the allocator
  const runs = [];
  for (let i = 0; i < params.repetitions; i++) {
    const run = addon.codec.benchmark(params.iterations);
    process.stderr.write(
      `codec rep ${i + 1}/${params.repetitions}: encode ${run.encodeNsPerMsg.toFixed(1)} ns, decode ${run.decodeNsPerMsg.toFixed(1)} ns\n`,
    );
    runs.push(run);
  }
  report('codec', params, {
    encodeNsPerMsg: round(median(runs.map((r) => r.encodeNsPerMsg))),
    decodeNsPerMsg: round(median(runs.map((r) => r.decodeNsPerMsg))),
    messagesPerPacket: runs[0].messagesPerPacket,
    bytesPerMsg: round(runs[0].bytesPerMsg),
    messagesPerRepetition: runs[0].messages,
  });
}

function round(value) {
  return Math.round(value * 100) / 100;
}
