// Keyring plumbing for the agent's /v1/keys over the Cluster API's `cluster.keys.add / use /
// remove / list`. A build whose Cluster had no keyring would fail every call with
// ERR_ENCRYPTION_UNAVAILABLE rather than pretend; this build has one.
import { randomBytes } from 'node:crypto';
import { Cluster } from '../index.js';

/** What the agent needs of the Cluster's keyring. */
export interface Keyring {
  list(): unknown | Promise<unknown>;
  add(key: string): unknown | Promise<unknown>;
  use(key: string): unknown | Promise<unknown>;
  remove(key: string): unknown | Promise<unknown>;
}

/** Raised when the build has no encryption. */
export class EncryptionUnavailableError extends Error {
  readonly code = 'ERR_ENCRYPTION_UNAVAILABLE';
  constructor() {
    super('encryption not available in this build');
  }
}

/** The cluster's keyring, or throws {@link EncryptionUnavailableError}. */
export function keyringOf(cluster: Cluster): Keyring {
  const keys = (cluster as unknown as { keys?: Partial<Keyring> }).keys;
  if (
    keys &&
    typeof keys.list === 'function' &&
    typeof keys.add === 'function' &&
    typeof keys.use === 'function' &&
    typeof keys.remove === 'function'
  ) {
    return keys as Keyring;
  }
  throw new EncryptionUnavailableError();
}

/** True when this build's Cluster has a keyring. */
export function encryptionAvailable(): boolean {
  // Looks at the class, not an instance: a getter or method named `keys` on the prototype.
  return 'keys' in Cluster.prototype;
}

/** A random 32-byte key, base64 (AES-256-GCM, as `constellation keygen` prints). */
export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

/** Checks a base64 key of 16, 24 or 32 bytes; returns an error message or undefined. */
export function checkKey(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) return 'not base64';
  const bytes = Buffer.from(trimmed, 'base64').length;
  if (bytes !== 16 && bytes !== 24 && bytes !== 32) return `decodes to ${bytes} bytes; keys are 16, 24 or 32 bytes`;
  return undefined;
}
