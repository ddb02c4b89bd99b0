/** Every option `createClientSession` takes: a name outside this list is a mistake, not an extension. */
export const OPTION_NAMES = [
  'store',
  'foregroundTimeout',
  'backgroundTimeout',
  'now',
  'logger',
  'writeInterval',
  'checkInterval',
  'maxSessionLength',
  'newSessionOnUserChange',
  'sessionEvents',
  'atomicSessionFields',
  'sessionKey',
  'retention',
  'onSessionStart',
  'onSessionEnd',
  'onSessionUpdate',
  'onError',
  'loadTimeout',
  'requireStore',
  'anonymous',
  'continueSessionOnRestart',
  'onForeground',
  'onBackground',
  'clock',
] as const;

/** The known name closest to `name` (by edit distance, ignoring case), if it is close enough to be a typo. */
export function closestOption(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of OPTION_NAMES) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
