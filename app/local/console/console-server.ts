import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import type { Dataset } from '../../src/datasets';
import { unquote } from '../../src/io/s3-io';
import { BUCKETS, type LocalLakehouse, PortInUseError } from '../local-lakehouse';
import { EventHistory } from './event-history';
import { lineageOf } from './lineage';
import { QualityReader } from './quality';
import { queryTables, summarizeTables } from './tables';

/** `pnpm dev`'s console port on 127.0.0.1. */
export const DEFAULT_CONSOLE_PORT = 4567;
/** Loopback only: nothing else on the network reaches the console. */
const HOST = '127.0.0.1';
const PAGE_DIR = join(__dirname, 'page');
/** A query's text and little else. */
const MAX_JSON_BODY = 1024 * 1024;
/** The page's files, by path: nothing else on disk is served. */
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/dom.js': { file: 'dom.js', type: 'text/javascript; charset=utf-8' },
  '/tables.js': { file: 'tables.js', type: 'text/javascript; charset=utf-8' },
  '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
};

export interface ConsoleOptions {
  lakehouse: LocalLakehouse;
  /** 0 picks a free port. Default 4567. */
  port?: number;
}

/**
 * The console on `port`; when that is the default and taken (another
 * lakehouse's console), on a free port instead: its URL says which.
 */
export function startConsoleNear(lakehouse: LocalLakehouse, port?: number): Promise<LakehouseConsole> {
  return startConsole({ lakehouse, port: port ?? DEFAULT_CONSOLE_PORT }).catch((error) => {
    if (port === undefined && error instanceof PortInUseError) return startConsole({ lakehouse, port: 0 });
    throw error;
  });
}

export interface LakehouseConsole {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export class ConsolePortInUseError extends PortInUseError {
  override name = 'ConsolePortInUseError';
}

/** A request the console refuses, with the status it answers. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The web console of a local lakehouse: a static page and a JSON API over
 * what the lakehouse knows (its events, its buckets), on 127.0.0.1.
 */
export async function startConsole({
  lakehouse,
  port = DEFAULT_CONSOLE_PORT,
}: ConsoleOptions): Promise<LakehouseConsole> {
  const datasets = lakehouse.datasets;
  const history = new EventHistory();
  const unsubscribe = lakehouse.onEvent((entry) => history.add(entry));
  const client = lakehouse.client();
  const quality = new QualityReader(client, lakehouse.cfg);

  const routes: Array<[method: string, path: RegExp, handle: Route]> = [
    ['GET', /^\/api\/summary$/, () => summary(lakehouse, datasets)],
    [
      'GET',
      /^\/api\/events$/,
      (_request, url) =>
        history.list({
          dataset: url.searchParams.get('dataset') ?? undefined,
          status: url.searchParams.get('status') ?? undefined,
        }),
    ],
    [
      'GET',
      /^\/api\/events\/(\d+)\/lineage$/,
      (_request, _url, [id]) => {
        const event = history.get(Number(id));
        if (!event) throw new RequestError(404, `no event ${id} (the console keeps the events since it started)`);
        return lineageOf(event, client, datasets, quality);
      },
    ],
    ['GET', /^\/api\/quality$/, () => quality.report()],
    ['PUT', /^\/api\/upload$/, (request, url) => upload(lakehouse, request, url.searchParams.get('key'))],
    ['GET', /^\/api\/tables$/, () => summarizeTables(client, lakehouse.cfg)],
    [
      'POST',
      /^\/api\/query$/,
      async (request) => {
        const { sql } = await jsonBody<{ sql?: unknown }>(request);
        if (typeof sql !== 'string' || !sql.trim()) throw new RequestError(400, 'the query needs {"sql": "..."}');
        return queryTables(client, lakehouse.cfg, sql).catch((error: Error) => {
          // DuckDB's own message says what is wrong with the SQL.
          throw new RequestError(400, error.message);
        });
      },
    ],
  ];

  const server = createServer((request, response) => {
    void serve(request, response).catch((error: Error) => {
      if (!response.headersSent) {
        sendJson(response, error instanceof RequestError ? error.status : 500, { error: error.message });
      } else response.end();
    });
  });

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    checkSameOrigin(request, boundPort());
    const url = new URL(request.url ?? '/', `http://${HOST}`);
    if (request.method === 'GET' && url.pathname === '/api/events/stream') return streamEvents(response);
    if (url.pathname === '/favicon.ico') return void response.writeHead(204).end();
    const page = PAGE_FILES[url.pathname];
    if (request.method === 'GET' && page) {
      response.writeHead(200, { 'content-type': page.type, 'cache-control': 'no-cache' });
      response.end(await readFile(join(PAGE_DIR, page.file)));
      return;
    }
    for (const [method, path, handle] of routes) {
      const match = path.exec(url.pathname);
      if (match && request.method === method) {
        sendJson(response, 200, await handle(request, url, match.slice(1)));
        return;
      }
    }
    throw new RequestError(404, `nothing at ${request.method} ${url.pathname}`);
  }

  /** Server-Sent Events: every event so far, oldest first, then each new one as it happens. */
  function streamEvents(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (event: unknown) => response.write(`data: ${JSON.stringify(event)}\n\n`);
    // A comment line sends the headers now, so the page knows it is live before the first event.
    response.write(': live\n\n');
    for (const event of history.list().reverse()) send(event);
    const stop = history.subscribe(send);
    response.on('close', stop);
  }

  await new Promise<void>((resolveListening, reject) => {
    server.once('error', reject).listen(port, HOST, () => resolveListening());
  }).catch((error) => {
    unsubscribe();
    client.destroy();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConsolePortInUseError(`the console's port ${port} on 127.0.0.1 is already in use`, { cause: error });
    }
    throw error;
  });
  const boundPort = () => (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${boundPort()}/`,
    port: boundPort(),
    async close() {
      unsubscribe();
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      client.destroy();
    },
  } satisfies LakehouseConsole;
}

type Route = (request: IncomingMessage, url: URL, params: string[]) => unknown;

/**
 * Only the console's own page may call it: another site open in the browser
 * (a cross-site request, or a DNS name rebound to 127.0.0.1) is refused.
 */
function checkSameOrigin(request: IncomingMessage, port: number): void {
  const own = new Set([`${HOST}:${port}`, `localhost:${port}`]);
  if (!own.has(request.headers.host ?? '')) throw new RequestError(403, 'the console answers on 127.0.0.1 only');
  const origin = request.headers.origin;
  if (origin && !own.has(origin.replace(/^http:\/\//, ''))) {
    throw new RequestError(403, 'requests from other sites are refused');
  }
}

function summary(lakehouse: LocalLakehouse, datasets: ReadonlyMap<string, Dataset>) {
  return {
    endpoint: lakehouse.endpoint,
    buckets: BUCKETS,
    datasets: [...datasets.keys()].sort(),
    stats: lakehouse.stats(),
  };
}

/** Streams the request body into raw under `key` (multipart past 5 MB, as the SDK uploads). */
async function upload(lakehouse: LocalLakehouse, request: IncomingMessage, rawKey: string | null) {
  const key = (rawKey ?? '').replace(/^\/+/, '');
  if (!key || key.endsWith('/')) throw new RequestError(400, 'upload needs ?key=<prefix>/<file name>');
  const client = lakehouse.client();
  try {
    const done = await new Upload({ client, params: { Bucket: BUCKETS.raw, Key: key, Body: request } }).done();
    return { bucket: BUCKETS.raw, key, eTag: done.ETag && unquote(done.ETag) };
  } finally {
    client.destroy();
  }
}

/** A small JSON request body; its content type makes a cross-site form unable to send it without asking first. */
async function jsonBody<T>(request: IncomingMessage): Promise<T> {
  if (!request.headers['content-type']?.startsWith('application/json')) {
    throw new RequestError(415, 'send JSON (content-type: application/json)');
  }
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > MAX_JSON_BODY) throw new RequestError(413, 'the request is too large');
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new RequestError(400, 'the request body is not JSON');
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
