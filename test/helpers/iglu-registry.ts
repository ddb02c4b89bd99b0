import { createServer, type Server } from 'node:http';
import type { RegistryConfig } from '../../plugin/iglu/index.js';

export interface Registry {
  uri: string;
  /** Paths asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A registry on a free loopback port. `prefix` is '' for a static repository (`/schemas/…`) and '/api'
 * for an Iglu Server (`/api/schemas/…`, `apikey` header required when `apikey` is set). `hang` never answers.
 */
export async function registry(schemas: Record<string, unknown>, options: { prefix?: string; apikey?: string; hang?: boolean } = {}): Promise<Registry> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (options.hang === true) return; // a registry that accepts the connection and never answers
    if (options.apikey !== undefined && req.headers.apikey !== options.apikey) {
      res.writeHead(401).end('{"message":"Not authorized"}');
      return;
    }
    const path = (req.url ?? '').slice(`${options.prefix ?? ''}/schemas/`.length);
    const schema = schemas[`iglu:${path}`];
    if (!(req.url ?? '').startsWith(`${options.prefix ?? ''}/schemas/`) || schema === undefined) res.writeHead(404).end('{"message":"not found"}');
    else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(schema));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    uri: `http://127.0.0.1:${port}${options.prefix ?? ''}`,
    requests,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** An HTTP repository of a resolver configuration. */
export const httpRepository = (name: string, uri: string, extra: Partial<RegistryConfig> & { apikey?: string } = {}): RegistryConfig => ({
  name,
  priority: extra.priority ?? 0,
  vendorPrefixes: extra.vendorPrefixes ?? [],
  connection: { http: { uri, ...(extra.apikey === undefined ? {} : { apikey: extra.apikey }) } },
});
