#!/usr/bin/env node
// `npm run demo`: five members on 127.0.0.1-5, each its own `constellation agent` process, and
// the member table as node-1 sees it, live. Then node-5 is killed (SIGKILL), node-4 paused
// (SIGSTOP, then SIGCONT) and node-3's resources updated, and each change is shown as it
// arrives. It ends by itself and stops every process it started, also on Ctrl-C.
//
// Options: --hold-ms N (how long each result stays on screen before the next step; default
// 2500), --profile lan|local|wan (default local: a single host's timings).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli', 'index.js');
if (!existsSync(cli)) {
  process.stderr.write(`demo: ${cli} is missing; run \`npm run build:ts\` (npm run demo does it for you)\n`);
  process.exit(1);
}
const require = createRequire(import.meta.url);
const { call, follow } = require(cli.replace('index.js', 'client.js'));
const { renderTable, wantsColor, paintState } = require(cli.replace('index.js', 'table.js'));

let options;
try {
  ({ values: options } = parseArgs({
    options: { 'hold-ms': { type: 'string' }, profile: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }));
} catch (error) {
  process.stderr.write(`demo: ${error.message}\n`);
  process.exit(2);
}
if (options.help) {
  process.stdout.write('Usage: npm run demo [-- --hold-ms N] [--profile local|lan|wan]\n');
  process.exit(0);
}
const holdMs = Number(options['hold-ms'] ?? 2500);
const profile = options.profile ?? 'local';
if (!Number.isInteger(holdMs) || holdMs < 0) {
  process.stderr.write(`demo: --hold-ms must be a non-negative integer (got '${options['hold-ms']}')\n`);
  process.exit(2);
}
if (!['local', 'lan', 'wan'].includes(profile)) {
  process.stderr.write(`demo: --profile must be one of local, lan, wan (got '${profile}')\n`);
  process.exit(2);
}

const tty = process.stdout.isTTY === true;
const color = wantsColor(process.stdout);
const bold = (text) => (color ? `\x1b[1m${text}\x1b[0m` : text);
const started = Date.now();
const clock = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

/** @type {{ name: string, child: import('node:child_process').ChildProcess, address?: string, http?: string, exited: boolean }[]} */
const agents = [];
const view = new Map(); // node-1's table, rebuilt from its feed
const changes = []; // what node-1 saw, newest last
let step = 'starting five agents';
let cleaning = false;

// ---- the screen -----------------------------------------------------------------------------
function draw() {
  if (!tty) return;
  const lines = [
    bold('Constellation demo: five members on 127.0.0.1-5, SWIM with Lifeguard'),
    `profile ${profile}; the table is what node-1 sees, live (Ctrl-C stops the demo)`,
    '',
    renderTable([...view.values()], { color, bars: true, local: 'node-1' }),
    '',
    `${bold('now:')} ${step}`,
    '',
    bold('changes seen by node-1:'),
    ...changes.slice(-10).map((c) => c.text),
  ];
  process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n`);
}

/** A line of the story: on a terminal it goes into the redrawn screen, into a pipe it is printed. */
function say(text) {
  step = text;
  if (tty) draw();
  else process.stdout.write(`${clock()}  ${text}\n`);
}

function showTable() {
  if (!tty) process.stdout.write(`${renderTable([...view.values()], { local: 'node-1' })}\n`);
}

function record(event) {
  const m = event.member;
  const text = `${clock()}  ${event.type.padEnd(8)} ${m.name.padEnd(7)} ${paintState(m.state, m.state.padEnd(7), color)} incarnation ${m.incarnation}`;
  changes.push({ text, event });
  if (tty) draw();
  else process.stdout.write(`${text}\n`);
}

// ---- processes --------------------------------------------------------------------------------
function startAgent(index, seed) {
  const name = `node-${index}`;
  const ip = `127.0.0.${index}`;
  const args = [
    cli,
    'agent',
    '--name',
    name,
    '--bind',
    `${ip}:0`,
    '--http',
    `${ip}:0`,
    '--profile',
    profile,
    '--json',
    '--log-level',
    'warn',
    '--tag',
    `zone=${index % 2 ? 'a' : 'b'}`,
    '--resources',
    `maxInstances=8,currentInstances=${index},cpuTotal=4,cpuAvailable=${4 - index * 0.5},ramTotalMb=8192,ramAvailableMb=${8192 - index * 1024}`,
  ];
  if (seed) args.push('--join', seed);
  // An IPC channel: if this demo dies without cleaning up, each agent sees it close and leaves.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const agent = { name, child, exited: false };
  agents.push(agent);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end < 0) return;
      const ready = JSON.parse(buffer.slice(0, end));
      child.stdout.off('data', onData);
      child.stdout.resume(); // the rest of its output is not needed: node-1's feed tells the story
      agent.address = ready.address;
      agent.http = ready.http;
      resolve(agent);
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => {
      agent.exited = true;
      if (!agent.address) reject(new Error(`${name} exited before it was ready (${code ?? signal}): ${stderr.trim()}`));
    });
  });
}

/** Stops every agent still running: SIGCONT (a paused one cannot die otherwise), then SIGKILL. */
function killEverything() {
  for (const a of agents) {
    if (a.exited) continue;
    try {
      a.child.kill('SIGCONT');
      a.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Polls `condition` every 50 ms; throws naming `what` when `timeoutMs` passes. */
async function waitFor(what, condition, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now();
}

/** Keeps the result on screen for the viewer; a pause for the eye, not a synchronisation. */
const hold = () => new Promise((resolve) => setTimeout(resolve, holdMs));

const stateOf = (name) => view.get(name)?.state;

// ---- the story --------------------------------------------------------------------------------
async function main() {
  // On a terminal the "last change" column keeps counting between changes.
  if (tty) setInterval(draw, 1000).unref();
  const seed = await startAgent(1);
  const feed = new AbortController();
  const feedDone = follow(
    seed.http,
    ({ event, data }) => {
      if (event === 'snapshot') {
        view.clear();
        for (const m of data.members) view.set(m.name, m);
        draw();
      } else if (event === 'member') {
        view.set(data.member.name, data.member);
        record(data);
      }
    },
    feed.signal,
  );
  await Promise.all([2, 3, 4, 5].map((i) => startAgent(i, seed.address)));
  say(
    `started node-1 .. node-5 (pids ${agents.map((a) => a.child.pid).join(', ')}); waiting for them to find each other`,
  );
  const names = agents.map((a) => a.name);
  const t0 = Date.now();
  await waitFor('node-1 to see all five alive', () => names.every((n) => stateOf(n) === 'alive'), 20_000);
  say(`node-1 sees all five members alive (${Date.now() - t0} ms)`);
  showTable();
  await hold();

  const victim = agents[4];
  say(`killing ${victim.name} with SIGKILL: it cannot say goodbye; the others must notice`);
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  await waitFor(`node-1 to mark ${victim.name} suspect`, () => stateOf(victim.name) !== 'alive', 30_000);
  say(
    `${victim.name} is suspect after ${Date.now() - killedAt} ms (no ack, direct or indirect); waiting for the suspicion to time out`,
  );
  await waitFor(`node-1 to mark ${victim.name} dead`, () => stateOf(victim.name) === 'dead', 60_000);
  say(`${victim.name} is dead, ${Date.now() - killedAt} ms after the kill`);
  showTable();
  await hold();

  const paused = agents[3];
  say(`pausing ${paused.name} with SIGSTOP: alive, but silent`);
  const stoppedAt = Date.now();
  paused.child.kill('SIGSTOP');
  await waitFor(`node-1 to suspect ${paused.name}`, () => stateOf(paused.name) !== 'alive', 30_000);
  say(`${paused.name} is ${stateOf(paused.name)} after ${Date.now() - stoppedAt} ms; resuming it with SIGCONT`);
  const incarnation = view.get(paused.name)?.incarnation ?? 0;
  paused.child.kill('SIGCONT');
  const resumedAt = Date.now();
  await waitFor(`node-1 to see ${paused.name} alive again`, () => stateOf(paused.name) === 'alive', 60_000);
  say(
    `${paused.name} refuted the suspicion: alive again after ${Date.now() - resumedAt} ms, incarnation ${incarnation} -> ${view.get(paused.name)?.incarnation}`,
  );
  showTable();
  await hold();

  const busy = agents[2];
  const before = view.get(busy.name).resources.currentInstances;
  say(`${busy.name} announces new resources: currentInstances ${before} -> 7, cpuAvailable -> 0.5`);
  const updatedAt = Date.now();
  await call(busy.http, 'POST', '/v1/update', { resources: { currentInstances: 7, cpuAvailable: 0.5 } });
  await waitFor(
    `node-1 to see ${busy.name}'s new resources`,
    () => view.get(busy.name)?.resources.currentInstances === 7,
    20_000,
  );
  say(`node-1 has ${busy.name}'s new resources ${Date.now() - updatedAt} ms after the update (gossip)`);
  showTable();
  await hold();

  // Every survivor, not only node-1, should come to the same view (gossip may still be spreading).
  const survivors = agents.filter((a) => a !== victim);
  const agreeAt = Date.now();
  const agree = async () => {
    const views = await Promise.all(survivors.map((a) => call(a.http, 'GET', '/v1/members')));
    return views.every(({ members }) =>
      members.every((m) => (m.name === victim.name ? m.state === 'dead' : m.state === 'alive')),
    );
  };
  await waitFor('every survivor to see node-5 dead and the rest alive', agree, 30_000);
  say(
    `all four survivors agree: ${victim.name} dead, the rest alive (${Date.now() - agreeAt} ms after node-1 saw the update). Stopping the agents.`,
  );
  feed.abort();
  await feedDone.catch(() => {});
  await cleanup();
  say('done: every process the demo started has exited');
}

async function cleanup() {
  if (cleaning) return;
  cleaning = true;
  // The whole cluster stops at once, so a graceful leave would tell no one: kill them.
  killEverything();
  await waitFor('every agent to exit', () => agents.every((a) => a.exited), 10_000);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    killEverything();
    process.stdout.write(`\ndemo: ${signal}, stopped every agent\n`);
    process.exit(130);
  });
}
process.on('exit', killEverything);

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`demo failed: ${error.message}\n`);
    killEverything();
    process.exit(1);
  },
);
