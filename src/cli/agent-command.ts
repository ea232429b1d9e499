// `constellation agent`: runs one member until it is told to leave, printing membership changes
// as they happen (text, or JSON lines with --json) on stdout; logs go to stderr as JSON lines.
import { readFile } from 'node:fs/promises';
import { Agent, type AgentOptions } from '../agent/agent.js';
import { checkKey, encryptionAvailable } from '../agent/keys.js';
import { jsonLinesLogger, type LogLevel, parseLogLevel } from '../agent/logger.js';
import type { ClusterEvent, Profile } from '../index.js';
import {
  CommandError,
  choiceFlag,
  hostPortFlag,
  parse,
  resourcesFlag,
  seedsFlag,
  tagsFlag,
  UsageError,
} from './args.js';
import { AGENT_HELP, DEFAULT_HTTP } from './help.js';
import { paintState, wantsColor } from './table.js';

const OPTIONS = {
  name: { type: 'string' },
  bind: { type: 'string' },
  advertise: { type: 'string' },
  join: { type: 'string', multiple: true },
  cluster: { type: 'string' },
  profile: { type: 'string' },
  tag: { type: 'string', multiple: true },
  resources: { type: 'string', multiple: true },
  snapshot: { type: 'string' },
  keyfile: { type: 'string' },
  http: { type: 'string' },
  json: { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Builds the agent's options from the command line; every mistake names its flag. */
export async function agentOptions(args: readonly string[]): Promise<
  | { help: true }
  | {
      help: false;
      options: AgentOptions;
      json: boolean;
      logLevel: LogLevel | 'silent';
    }
> {
  const cmd = 'agent';
  const { values } = parse(cmd, args, OPTIONS);
  if (values.help) return { help: true };
  if (values.name === undefined || values.name === '') throw new UsageError(`${cmd}: --name is required`);
  if (Buffer.byteLength(values.name) > 255) throw new UsageError(`${cmd}: --name must be at most 255 bytes`);
  const options: AgentOptions = {
    nodeName: values.name,
    bind: hostPortFlag(cmd, 'bind', values.bind ?? '0.0.0.0:7946'),
    profile: choiceFlag<Profile>(cmd, 'profile', values.profile ?? 'lan', ['lan', 'wan', 'local']),
  };
  if (values.advertise !== undefined) options.advertise = hostPortFlag(cmd, 'advertise', values.advertise, false);
  if (values.cluster !== undefined) {
    if (values.cluster === '') throw new UsageError(`${cmd}: --cluster must not be empty`);
    options.clusterName = values.cluster;
  }
  if (values.join) options.join = seedsFlag(cmd, values.join);
  if (values.tag) options.tags = tagsFlag(cmd, values.tag);
  if (values.resources) options.resources = resourcesFlag(cmd, values.resources);
  if (values.snapshot !== undefined) {
    if (values.snapshot === '') throw new UsageError(`${cmd}: --snapshot needs a path`);
    options.snapshotPath = values.snapshot;
  }
  const http = values.http ?? DEFAULT_HTTP;
  if (http !== 'off') options.http = hostPortFlag(cmd, 'http', http);
  if (values.keyfile !== undefined) {
    let text: string;
    try {
      text = await readFile(values.keyfile, 'utf8');
    } catch (error) {
      throw new UsageError(
        `${cmd}: --keyfile: cannot read ${values.keyfile} (${(error as NodeJS.ErrnoException).code})`,
      );
    }
    const problem = checkKey(text);
    if (problem) throw new UsageError(`${cmd}: --keyfile: the key in ${values.keyfile} is ${problem}`);
    // Running unencrypted while the operator asked for a key would be worse than not running.
    if (!encryptionAvailable()) throw new CommandError(`${cmd}: --keyfile: encryption not available in this build`);
    // Cluster.start takes `keys` (base64 strings or Buffers, the primary first).
    (options as AgentOptions & { keys?: string[] }).keys = [text.trim()];
  }
  const logLevel = parseLogLevel(values['log-level'] ?? 'info');
  if (logLevel === undefined)
    throw new UsageError(
      `${cmd}: --log-level must be one of debug, info, warn, error, silent (got '${values['log-level']}')`,
    );
  return { help: false, options, json: values.json === true, logLevel };
}

function time(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

/** Runs `constellation agent`; resolves with the exit code once the agent has stopped. */
export async function runAgent(args: readonly string[]): Promise<number> {
  const parsed = await agentOptions(args);
  if (parsed.help) {
    process.stdout.write(AGENT_HELP);
    return 0;
  }
  const { options, json } = parsed;
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const emit = (record: Record<string, unknown>) => print(JSON.stringify(record));
  const color = !json && wantsColor(process.stdout);
  options.logger = jsonLinesLogger((line) => process.stderr.write(line), parsed.logLevel);

  let agent: Agent;
  try {
    agent = await Agent.start(options);
  } catch (error) {
    const e = error as Error & { code?: string };
    throw new CommandError(`agent: could not start: ${e.message}${e.code ? ` (${e.code})` : ''}`);
  }
  const local = agent.cluster.local;
  const address = `${local.address.includes(':') ? `[${local.address}]` : local.address}:${local.port}`;
  if (json) {
    emit({
      type: 'agent.ready',
      name: local.name,
      address,
      incarnation: local.incarnation,
      http: agent.httpAddress ?? null,
      clusterName: agent.cluster.clusterName,
      pid: process.pid,
      at: Date.now(),
    });
  } else {
    print(`constellation agent ${local.name} running on ${address} (cluster ${agent.cluster.clusterName})`);
    if (agent.httpAddress) print(`  status page and API: http://${agent.httpAddress}/`);
  }

  agent.on('event', (event: ClusterEvent) => {
    const m = event.member;
    const where = `${m.address.includes(':') ? `[${m.address}]` : m.address}:${m.port}`;
    if (json) {
      emit({ type: event.type, at: event.at, member: m });
    } else {
      print(
        `${time(event.at)}  ${event.type.padEnd(8)} ${m.name}  ${where}  ${paintState(m.state, m.state, color)}  incarnation ${m.incarnation}`,
      );
    }
  });

  // The cluster's native handle does not hold the event loop open (a library member must not
  // keep its process alive); the agent command runs until it is stopped.
  const keepAlive = setInterval(() => {}, 1 << 30);
  agent.on('stopped', () => clearInterval(keepAlive));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      if (!json) print(`${signal}: leaving the cluster (again to stop at once)`);
      agent.leave().catch(() => {});
    } else {
      agent.shutdown().catch(() => {});
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Started by a supervisor with an IPC channel (the demo, tests): its end is ours.
  if (process.channel) {
    process.once('disconnect', () => {
      agent.leave().catch(() => {});
    });
  }

  const outcome = await agent.join();
  if (outcome.error && agent.running && options.snapshotPath === undefined) {
    // Seeds given by hand that all failed are a mistake to report, not a cluster of one to run.
    await agent.shutdown();
    throw new CommandError(`agent: ${outcome.error.message}`);
  }
  if (agent.running) {
    if (json) {
      emit({
        type: outcome.error ? 'agent.join-failed' : 'agent.joined',
        seeds: outcome.seeds,
        contacted: outcome.contacted,
        ...(outcome.error ? { error: outcome.error.message } : {}),
        at: Date.now(),
      });
    } else if (outcome.error) {
      print(`could not join: ${outcome.error.message}; running alone until someone joins us`);
    } else if (outcome.seeds.length > 0) {
      print(`joined through ${outcome.contacted} of ${outcome.seeds.length} seed(s): ${outcome.seeds.join(', ')}`);
    } else {
      print('no seeds: started a new cluster');
    }
  }

  await agent.closed;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (json) emit({ type: 'agent.stopped', at: Date.now() });
  else print('agent stopped');
  return 0;
}
