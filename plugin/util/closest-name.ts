/** The name in `candidates` closest to `name` (by edit distance, ignoring case), if it is close enough to be a typo. */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/** Throws for the first key of `options` that is not one of `names`; a typo gets a "did you mean". */
export function checkOptionNames(options: object, names: readonly string[], prefix: string): void {
  for (const name of Object.keys(options)) {
    if (names.includes(name)) continue;
    const near = closestName(name, names);
    throw new TypeError(`${prefix} \`${name}\` is not an option${near === undefined ? '' : `; did you mean \`${near}\`?`} (options: ${names.join(', ')})`);
  }
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
