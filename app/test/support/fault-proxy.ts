import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fault-injecting HTTP proxy between an S3 client and the local S3 server:
 * real TCP resets, short bodies, stalls and error answers on the real
 * protocol, which a mocked client cannot give. Requests no rule matches are
 * forwarded unchanged.
 */
export type Fault =
  /** The server's headers and half its body, then a TCP reset. */
  | 'reset-mid-download'
  /** The server's headers (its Content-Length intact) and half its body, then the connection ends. */
  | 'truncated-body'
  /** Part of the request body read, then a TCP reset; nothing reaches the server. */
  | 'reset-mid-upload'
  /** No answer at all. */
  | 'stall'
  /** Forwarded unchanged after a wait: a slow link. */
  | { delayMs: number }
  /** Forwarded unchanged once `until` settles: what it does wins the race with this request. */
  | { until: () => Promise<unknown> }
  | { status: number; code: string };

export interface FaultRule {
  method: 'GET' | 'PUT' | 'HEAD' | 'POST' | 'DELETE';
  bucket: string;
  /** Only requests for this key (default: any key of the bucket). */
  key?: string;
  fault: Fault;
  /** How many matching requests get the fault (default: every one until `clear`). */
  times?: number;
}

/** A request the proxy answered: when it arrived and when its answer ended (ms, `performance.now()`). */
export interface ProxiedRequest {
  method: string;
  bucket: string;
  key: string;
  start: number;
  end: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give it to the client as its S3 endpoint. */
  readonly endpoint: string;
  inject(rule: FaultRule): void;
  /** Every request waits `ms` before it is forwarded: a link with that latency (S3 from Lambda: tens of ms). */
  setLatency(ms: number): void;
  /** The requests answered since the last `clear`. */
  readonly requests: readonly ProxiedRequest[];
  clear(): void;
  /** Requests that got a fault since the last `clear`. */
  readonly faulted: number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstreamEndpoint: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamEndpoint);
  let rules: Array<FaultRule & { left: number }> = [];
  let faulted = 0;
  let latencyMs = 0;
  let requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();

  const target = (req: IncomingMessage) => {
    const [, bucket = '', ...key] = decodeURIComponent((req.url ?? '').split('?')[0] ?? '').split('/');
    return { bucket, key: key.join('/') };
  };

  const ruleFor = (req: IncomingMessage) => {
    const { bucket, key } = target(req);
    const rule = rules.find(
      (r) => r.left > 0 && r.method === req.method && r.bucket === bucket && (r.key === undefined || r.key === key),
    );
    if (!rule) return undefined;
    rule.left--;
    faulted++;
    return rule.fault;
  };

  const forward = (req: IncomingMessage, onResponse: (response: IncomingMessage) => void) => {
    const outgoing = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      onResponse,
    );
    outgoing.on('error', () => req.socket.destroy());
    req.pipe(outgoing);
  };

  const half = (response: IncomingMessage, res: ServerResponse, then: (socket: Socket) => void) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(response.statusCode ?? 500, response.headers);
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => then(res.socket as Socket));
    });
  };

  const server = createServer((req, res) => {
    const start = performance.now();
    res.on('finish', () => requests.push({ method: req.method ?? '', ...target(req), start, end: performance.now() }));
    const fault = ruleFor(req);
    const forwardUnchanged = () =>
      forward(req, (response) => {
        res.writeHead(response.statusCode ?? 500, response.headers);
        response.pipe(res);
      });
    const passOn = () => (latencyMs > 0 ? setTimeout(forwardUnchanged, latencyMs) : forwardUnchanged());
    if (!fault) {
      passOn();
      return;
    }
    if (fault === 'stall') return;
    if (typeof fault === 'object' && 'delayMs' in fault) {
      setTimeout(passOn, fault.delayMs);
      return;
    }
    if (typeof fault === 'object' && 'until' in fault) {
      void fault.until().then(passOn, passOn);
      return;
    }
    if (fault === 'reset-mid-upload') {
      req.once('data', () => req.socket.resetAndDestroy());
      req.once('end', () => req.socket.resetAndDestroy());
      return;
    }
    if (fault === 'reset-mid-download') {
      forward(req, (response) => half(response, res, (socket) => socket.resetAndDestroy()));
      return;
    }
    if (fault === 'truncated-body') {
      forward(req, (response) => half(response, res, (socket) => socket.end()));
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(fault.status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code><Message>injected</Message></Error>`,
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inject(rule) {
      rules.push({ ...rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    get requests() {
      return requests;
    },
    clear() {
      rules = [];
      faulted = 0;
      requests = [];
    },
    get faulted() {
      return faulted;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
