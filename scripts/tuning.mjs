#!/usr/bin/env node
// Maps detection time against false deaths and false suspicions for a handful of settings
// around the `lan` profile, at 50 members and 0, 5, 10 and 20 % uniform loss, in the simulator
// (virtual time), and writes the table to docs/tuning.md.
//
//   node scripts/tuning.mjs [--seeds 5] [--soakMs 1800000] [--out docs/tuning.md]
//                           [--table current] [--addon path/to/constellation.node] [--note text]
//                           [--only 'setting a;setting b'] [--losses 0.1,0.2] [--seedBase 1000]
//                           [--crashes 1] [--crashGapMs 8000]
//
// The table lands between `<!-- tuning-table:NAME:start -->` and `...:end -->` markers in the
// output file (NAME from --table), so several tables (say, the engine as it is and the engine
// with a proposed fix, built elsewhere and passed with --addon) live side by side and the
// hand-written reasoning around them survives a rerun.
//
// Each cell runs `--seeds` seeds. One run: 50 members join through one seed and converge, run
// undisturbed for --soakMs (every suspicion or death of a live member is false), then one
// member crashes and the run ends when every live member has marked it dead. Detection is the
// time until the *last* live member marks the crash dead — the number memberlist needs 9.0 s
// for with its LAN defaults on real sockets here. With --crashes K, K distinct members crash
// --crashGapMs apart (as `npm run bench -- real --crashes 5` crashes one as soon as the last
// is dead everywhere), and the detection columns summarise every crash of every seed.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = parseArgs(process.argv.slice(2));
const addon = args.addon ? require(path.resolve(String(args.addon))) : require('node-gyp-build')(root);
const seeds = Number(args.seeds ?? 5);
const soakMs = Number(args.soakMs ?? 1_800_000);
const tableName = String(args.table ?? 'current');
const seedBase = Number(args.seedBase ?? 1000);
const out = path.resolve(root, String(args.out ?? 'docs/tuning.md'));
const nodes = 50;
const losses = args.losses ? String(args.losses).split(',').map(Number) : [0, 0.05, 0.1, 0.2];
const MEMBERLIST_LAN_DETECT_ALL_MS = 9000;
const crashes = Number(args.crashes ?? 1);
const crashGapMs = Number(args.crashGapMs ?? 8000);

// The settings: the lan profile as it stands, then one or two knobs moved at a time.
const allSettings = [
  { name: 'lan (current)', config: {} },
  { name: 'suspicionMult 3', config: { suspicionMult: 3 } },
  { name: 'suspicionMult 2', config: { suspicionMult: 2 } },
  { name: 'suspicionMaxTimeoutMult 3', config: { suspicionMaxTimeoutMult: 3 } },
  { name: 'indirectChecks 5', config: { indirectChecks: 5 } },
  { name: 'indirectChecks 5, suspicionMult 3', config: { indirectChecks: 5, suspicionMult: 3 } },
  { name: 'probeTimeout 300, suspicionMult 3', config: { probeTimeoutMs: 300, suspicionMult: 3 } },
  { name: 'probe 500/250', config: { probeIntervalMs: 500, probeTimeoutMs: 250 } },
  {
    name: 'probe 500/250, indirectChecks 5, suspicionMult 3',
    config: { probeIntervalMs: 500, probeTimeoutMs: 250, indirectChecks: 5, suspicionMult: 3 },
  },
  // The second round (after the engine's loss fixes): the probe period, and Lifeguard's K on
  // its own. The profile is now 800/400 with K 2; memberlist's settings for comparison.
  { name: 'probe 1000/500', config: { probeIntervalMs: 1000, probeTimeoutMs: 500 } },
  {
    name: 'probe 1000/500, suspicionConfirmations 1',
    config: { probeIntervalMs: 1000, probeTimeoutMs: 500, suspicionConfirmations: 1 },
  },
  { name: 'probe 900/450', config: { probeIntervalMs: 900, probeTimeoutMs: 450 } },
  { name: 'suspicionConfirmations 1', config: { suspicionConfirmations: 1 } },
  {
    name: 'memberlist LAN',
    config: {
      probeIntervalMs: 1000,
      probeTimeoutMs: 500,
      indirectChecks: 3,
      suspicionMult: 4,
      suspicionConfirmations: 2,
    },
  },
];

const only = args.only ? String(args.only).split(';') : null;
const settings = only ? allSettings.filter((s) => only.includes(s.name)) : allSettings;
if (settings.length === 0) {
  throw new Error(`--only matches no setting; known: ${allSettings.map((s) => s.name).join('; ')}`);
}

function parseArgs(argv) {
  const parsed = {};
  for (let i = 0; i < argv.length; i += 2) parsed[argv[i].replace(/^--/, '')] = argv[i + 1];
  return parsed;
}

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function runCell(setting, loss) {
  const detectAll = [];
  const detectFirst = [];
  let falseDeaths = 0;
  let falseSuspicions = 0;
  let deathEpisodes = 0;
  let suspicionEpisodes = 0;
  let undetected = 0;
  let msgs = 0;
  for (let s = 0; s < seeds; s++) {
    const seed = seedBase + s;
    const victims = [];
    for (let k = 0; victims.length < crashes; k++) {
      const victim = 1 + ((seed * 7919 + k * 104729) % (nodes - 1));
      if (!victims.includes(victim)) victims.push(victim);
    }
    const { metrics } = addon.sim.simulate({
      seed,
      nodes,
      profile: 'lan',
      config: setting.config,
      loss,
      actionsFrom: 'converged',
      actions: victims.map((victim, k) => ({ at: soakMs + k * crashGapMs, kind: 'crash', members: [victim] })),
      stopWhen: 'detected',
      durationMs: 300_000 + soakMs + crashes * crashGapMs + 300_000,
      recordEvents: false,
    });
    for (const crash of metrics.crashes) {
      if (crash.detectAllMs === null) undetected++;
      else detectAll.push(crash.detectAllMs);
      if (crash.detectFirstMs !== null) detectFirst.push(crash.detectFirstMs);
    }
    falseDeaths += metrics.falsePositives;
    falseSuspicions += metrics.falseSuspicions;
    deathEpisodes += metrics.falseDeathEpisodes;
    suspicionEpisodes += metrics.falseSuspicionEpisodes;
    msgs += metrics.msgsPerNodePerSec;
  }
  return {
    detectAllMedian: median(detectAll),
    detectAllMax: detectAll.length ? Math.max(...detectAll) : null,
    detectFirstMedian: median(detectFirst),
    undetected,
    // Per member-hour of soak, so cells with other seed counts or soak lengths compare.
    suspicionEpisodesPerMemberHour: suspicionEpisodes / ((nodes * seeds * soakMs) / 3_600_000),
    falseDeaths,
    falseSuspicions,
    deathEpisodes,
    suspicionEpisodes,
    msgsPerNodePerSec: msgs / seeds,
  };
}

const fmtS = (ms) => (ms === null ? '—' : (ms / 1000).toFixed(1));
const fmtRate = (x) => (x === 0 ? '0' : x.toFixed(3));

const started = Date.now();
const rows = [];
for (const setting of settings) {
  for (const loss of losses) {
    const cell = runCell(setting, loss);
    rows.push({ setting, loss, ...cell });
    process.stderr.write(
      `${setting.name.padEnd(36)} loss ${String(loss * 100).padStart(2)}%  detectAll ${fmtS(cell.detectAllMedian)} s  ` +
        `false deaths ${cell.deathEpisodes} (${cell.falseDeaths})  false suspicions ${cell.suspicionEpisodes} (${cell.falseSuspicions})\n`,
    );
  }
}
const wallS = ((Date.now() - started) / 1000).toFixed(0);

// The generated part sits between two markers; the reasoning around it is written by hand and
// kept when the table is regenerated.
const START = `<!-- tuning-table:${tableName}:start -->`;
const END = `<!-- tuning-table:${tableName}:end -->`;
const lines = [START];
lines.push('');
if (args.note) {
  lines.push(String(args.note));
  lines.push('');
}
lines.push(
  `${nodes} members in the deterministic simulator (native/sim, virtual time), 1 ms + up to 1 ms jitter per ` +
    `link, uniform datagram loss as given. Per cell ${seeds} seeds; each run converges, soaks ` +
    `${soakMs / 1000} s undisturbed (every suspicion or death then is false), crashes one member and ` +
    'stops once every live member has marked it dead. **Detect all** is the median over seeds of the time ' +
    'until the last live member marked the crash dead (max in brackets); the bar is memberlist with its ' +
    `LAN defaults, ${MEMBERLIST_LAN_DETECT_ALL_MS / 1000} s for 50 members on real sockets. False deaths ` +
    'and suspicions are summed over the seeds and counted two ways: *episodes* are distinct (member, incarnation) ' +
    'pairs wrongly declared dead or suspect — one accusation — and the number in brackets counts every member that ' +
    'adopted it (an episode gossiped to all 49 others counts 49). *Per member-hour* divides suspicion episodes by ' +
    'members × soak time. ' +
    `Generated by \`node scripts/tuning.mjs --seeds ${seeds} --soakMs ${soakMs} --table ${tableName}` +
    `${args.seedBase ? ` --seedBase ${seedBase}` : ''}${args.losses ? ` --losses ${args.losses}` : ''}` +
    `${only ? ` --only '${only.join(';')}'` : ''}${crashes > 1 ? ` --crashes ${crashes} --crashGapMs ${crashGapMs}` : ''}` +
    `${args.addon ? ' --addon …' : ''}\` in ${wallS} s of wall time.`,
);
lines.push('');
lines.push(
  '| setting | loss | detect all, s | detect first, s | false deaths | false suspicions | false susp. / member-hour | msgs/node/s |',
);
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  const undetected = row.undetected ? ` (${row.undetected} undetected)` : '';
  lines.push(
    `| ${row.setting.name} | ${row.loss * 100} % | ${fmtS(row.detectAllMedian)} [${fmtS(row.detectAllMax)}]${undetected} | ` +
      `${fmtS(row.detectFirstMedian)} | ${row.deathEpisodes} (${row.falseDeaths}) | ` +
      `${row.suspicionEpisodes} (${row.falseSuspicions}) | ${fmtRate(row.suspicionEpisodesPerMemberHour)} | ` +
      `${row.msgsPerNodePerSec.toFixed(1)} |`,
  );
}
lines.push('');
lines.push('Settings (overrides of `lan`):');
lines.push('');
for (const setting of settings) lines.push(`- **${setting.name}**: \`${JSON.stringify(setting.config)}\``);
lines.push('');
lines.push(END);
const table = lines.join('\n');

let document = `# Tuning the \`lan\` profile\n\n${table}\n`;
if (existsSync(out)) {
  const previous = readFileSync(out, 'utf8');
  const from = previous.indexOf(START);
  const to = previous.indexOf(END);
  document =
    from >= 0 && to > from
      ? previous.slice(0, from) + table + previous.slice(to + END.length)
      : `${previous.trimEnd()}\n\n${table}\n`;
}
writeFileSync(out, document);
process.stderr.write(`wrote ${path.relative(root, out)} in ${wallS} s\n`);
