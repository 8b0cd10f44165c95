import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TableInput } from '@aws-sdk/client-glue';

/**
 * A Glue Data Catalog on loopback, speaking the JSON 1.1 protocol for the
 * three operations the ingestion function calls (there is no Glue emulator
 * offline): GetTable, CreateTable, UpdateTable, with Glue's errors and its
 * table versions. It keeps every request, so tests can assert what was sent.
 */
export interface GlueServer {
  endpoint: string;
  requests: Array<{ operation: string; body: Record<string, unknown> }>;
  /** The stored tables by `<database>.<name>`, as created or last updated. */
  tables: Map<string, { input: TableInput; versionId: number }>;
  close(): Promise<void>;
}

export async function startGlueServer(): Promise<GlueServer> {
  const requests: GlueServer['requests'] = [];
  const tables: GlueServer['tables'] = new Map();
  const answer = (operation: string, body: Record<string, unknown>): [number, object] => {
    const database = String(body.DatabaseName);
    const input = body.TableInput as TableInput | undefined;
    const id = `${database}.${String(body.Name ?? input?.Name)}`;
    const table = tables.get(id);
    const error = (type: string) => [400, { __type: type, Message: `${type}: ${id}` }] as [number, object];
    switch (operation) {
      case 'GetTable':
        if (!table) return error('EntityNotFoundException');
        return [200, { Table: { ...table.input, DatabaseName: database, VersionId: String(table.versionId) } }];
      case 'CreateTable':
        if (table) return error('AlreadyExistsException');
        tables.set(id, { input: input as TableInput, versionId: 1 });
        return [200, {}];
      case 'UpdateTable':
        if (!table) return error('EntityNotFoundException');
        if (body.VersionId !== undefined && body.VersionId !== String(table.versionId)) {
          return error('ConcurrentModificationException');
        }
        tables.set(id, { input: input as TableInput, versionId: table.versionId + 1 });
        return [200, {}];
      default:
        return error('InvalidInputException');
    }
  };
  const server = createServer(async (request, response) => {
    const operation = String(request.headers['x-amz-target'] ?? '').replace(/^AWSGlue\./, '');
    const body = JSON.parse((await text(request)) || '{}') as Record<string, unknown>;
    requests.push({ operation, body });
    const [status, payload] = answer(operation, body);
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(payload));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    tables,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function text(request: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of request) body += chunk;
  return body;
}
