/** Thrown when a bounded wait runs out: the message says what was waited for and how long. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * `promise`, or a rejection with `TimeoutError(message)` after `ms`. The timer is cleared as soon as the
 * promise settles and is unref'd, so a bounded wait never keeps a process alive.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
    timer.unref();
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
