/**
 * Constellation: cluster membership and failure detection for Node.js (SWIM with Lifeguard),
 * with the protocol running on a native thread.
 *
 * @packageDocumentation
 */
import { native } from './native.js';

/** The wire protocol version this build speaks; peers must speak the same version. */
export function protocolVersion(): number {
  return native().protocolVersion;
}
