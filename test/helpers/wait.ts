// The one poll-with-a-deadline the tests share: nothing waits on a fixed sleep.

/** How long `waitFor` polls, and how often. */
export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `condition` every `intervalMs` until it holds and returns how long that took; throws
 * naming `what` after `timeoutMs` (a function is called then, to describe what it found).
 */
export async function waitFor(
  what: string | (() => string),
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 15_000, intervalMs = 20 }: WaitOptions = {},
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
