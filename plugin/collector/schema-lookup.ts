/**
 * `GET /micro/iglu/<vendor>/<name>/jsonschema/<version>`, as Micro answers it: 200 with the schema, or 404
 * with each repository's attempt (Micro's resolution error, `{"value": {repository: attempt}}`, plus the
 * same as a list, `lookupHistory`, as bad rows give it).
 */
import type { IgluResolver } from '../iglu/index.js';
import { isSchemaVer } from '../iglu/index.js';

export async function lookUpSchema(resolver: IgluResolver, path: string): Promise<{ status: number; body: unknown }> {
  const parts = path.split('/');
  const [vendor, name, format, version] = parts;
  if (parts.length !== 4 || format !== 'jsonschema' || !isSchemaVer(version ?? '')) {
    return { status: 404, body: { error: 'Schema lookup should be in format iglu/{vendor}/{schemaName}/jsonschema/{model}-{revision}-{addition}' } };
  }
  const found = await resolver.lookUp(`iglu:${vendor}/${name}/${format}/${version}`);
  if (found.ok) return { status: 200, body: found.schema.schema };
  const value = Object.fromEntries(found.lookupHistory.map(({ repository, ...attempt }) => [repository, attempt]));
  return { status: 404, body: { error: 'ResolutionError', message: found.reason, lookupHistory: found.lookupHistory, value } };
}
