// A group of cluster members in one process, for benchmarks that run it somewhere the bench
// itself is not (bench/loss.mjs starts it inside a network namespace). Driven over IPC.
//
//   argv[2]: JSON { nodes, options, hostBase: '127.0.3.' }   members m0..m(n-1) on hostBase(i+1)
//   -> { type: 'ready' } once every member has joined m0
//   <- { id, cmd: 'mark' }      starts counting suspect/dead events afresh
//   <- { id, cmd: 'counts' }    -> { falseSuspicions, falseDeaths, observersWithFalseSuspicion }
//                                  (every member is alive, so every such event is false)
//   <- { id, cmd: 'converged' } -> { converged: every member sees all n alive }
//   <- { id, cmd: 'stats' }     -> summed counters
const path = require('node:path');
const { Cluster } = require(path.resolve(__dirname, '..', 'dist', 'index.js'));

const { nodes, options, hostBase } = JSON.parse(process.argv[2]);

async function main() {
  const clusters = [];
  for (let i = 0; i < nodes; i++) {
    clusters.push(await Cluster.start({ ...options, nodeName: `m${i}`, bind: `${hostBase}${i + 1}:0` }));
  }
  let suspicions = new Map();
  let deaths = 0;
  for (const c of clusters) {
    const observer = c.local.name;
    c.on('suspect', () => suspicions.set(observer, (suspicions.get(observer) ?? 0) + 1));
    c.on('dead', () => deaths++);
  }
  const seed = `${clusters[0].address.host}:${clusters[0].address.port}`;
  await Promise.all(clusters.slice(1).map((c) => c.join([seed], { retries: 5, retryDelayMs: 500 })));
  process.on('message', (m) => {
    const reply = (fields) => process.send({ id: m.id, type: 'reply', ...fields });
    switch (m.cmd) {
      case 'mark':
        suspicions = new Map();
        deaths = 0;
        reply({});
        break;
      case 'counts':
        reply({
          falseSuspicions: [...suspicions.values()].reduce((a, b) => a + b, 0),
          falseDeaths: deaths,
          observersWithFalseSuspicion: suspicions.size,
        });
        break;
      case 'converged':
        reply({ converged: clusters.every((c) => c.stats().alive === nodes) });
        break;
      case 'stats': {
        const sum = {};
        for (const c of clusters) {
          const s = c.stats();
          for (const k of [
            'packetsIn',
            'packetsOut',
            'tcpPingsRequested',
            'probeFailures',
            'suspicions',
            'refutations',
          ]) {
            sum[k] = (sum[k] ?? 0) + s[k];
          }
        }
        reply(sum);
        break;
      }
      default:
        reply({ error: `unknown ${m.cmd}` });
    }
  });
  process.send({ type: 'ready' });
}

main().catch((error) => {
  process.send?.({ type: 'fatal', error: error.message });
  process.exitCode = 1;
});
