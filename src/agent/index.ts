/**
 * The agent as a library (`@rads/constellation/agent`): what `constellation agent` runs — a
 * member with a snapshot, logs and a local HTTP endpoint (JSON API, `/metrics`, status page) —
 * for programs that want to embed it rather than spawn the CLI.
 *
 * @packageDocumentation
 */
export { Agent, type AgentEvent, type AgentOptions, type JoinOutcome } from './agent.js';
export { jsonLinesLogger, type Logger, type LogLevel, parseLogLevel, silentLogger } from './logger.js';
export { clusterMetrics, METRIC_PREFIX } from './metrics.js';
export {
  type RememberedMember,
  Snapshot,
  type SnapshotContents,
  type SnapshotOptions,
} from './snapshot.js';
