/**
 * Constellation: cluster membership and failure detection for Node.js (SWIM with Lifeguard),
 * with the protocol running on a native thread.
 *
 * @packageDocumentation
 */
import { native } from './native.js';

export {
  Cluster,
  type ClusterEvent,
  type ClusterEventType,
  type ClusterKeys,
  type ClusterStats,
  type JoinOptions,
  type KeyInfo,
  type Member,
  type MemberFilter,
  type MemberState,
  type ProbeRttHistogram,
} from './cluster.js';
export {
  type ClusterOptions,
  type IoThread,
  type Profile,
  type ProtocolOptions,
  profileDefaults,
  type Resources,
} from './config.js';
export {
  BindError,
  ConstellationError,
  type ErrorCode,
  InvalidConfigError,
  JoinFailedError,
  MetadataTooLargeError,
  NotRunningError,
  type SeedFailure,
  UnknownMemberError,
} from './errors.js';
export type { Logger, LogLevel } from './logger.js';

/** The wire protocol version this build speaks; peers must speak the same version. */
export function protocolVersion(): number {
  return native().protocolVersion;
}
