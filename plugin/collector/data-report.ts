/** The parts of Snowplow's data reports (bad rows, failure entities): JSON paths and `targets`. */
import type { ValidationIssue } from '../iglu/index.js';

/** `/a/0/b c` → `$.a[0]['b c']`, the path style of Snowplow's data reports. */
export function toJsonPath(pointer: string): string {
  if (pointer === '') return '$';
  return `$${pointer
    .slice(1)
    .split('/')
    .map(decodePointerSegment)
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : /^[A-Za-z_$][\w$]*$/.test(segment) ? `.${segment}` : `['${segment.replace(/'/g, "\\'")}']`))
    .join('')}`;
}

function decodePointerSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Micro's `targets`: for a type error the type found then the types expected; the property for presence errors. */
export function targetsOf(issue: ValidationIssue): string[] | null {
  if (issue.keyword === 'type' && issue.found !== undefined && issue.expected !== undefined) return [issue.found, ...issue.expected.split(' or ')];
  if (issue.keyword === 'required' || issue.keyword === 'additionalProperties') {
    return [decodePointerSegment((issue.dataPath ?? '').slice((issue.dataPath ?? '').lastIndexOf('/') + 1))];
  }
  return null;
}
