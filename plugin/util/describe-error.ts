/** Errors from another realm (a vm context, a worker) are not `instanceof Error`: judged by shape. */
function asError(error: unknown): (Error & { code?: string }) | null {
  return typeof error === 'object' && error !== null && typeof (error as Error).message === 'string' ? (error as Error & { code?: string }) : null;
}

/** An error as one line: its message (which for file-system errors names the code and the path). */
export function describeError(error: unknown): string {
  const found = asError(error);
  if (found === null) return String(error);
  const code = typeof found.code === 'string' ? found.code : undefined;
  return code !== undefined && !found.message.includes(code) ? `${found.message} (${code})` : found.message;
}

/** A failure as one line with its cause; the stack only at debug level, for loggers that have one. */
export function logFailure(logger: { error(message: string): void; debug?: (message: string) => void }, message: string, error: unknown): void {
  logger.error(`${message}: ${describeError(error)}`);
  const stack = asError(error)?.stack;
  if (stack !== undefined) logger.debug?.(stack);
}
