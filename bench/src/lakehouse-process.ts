import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import { APP_DIR, DEV_SCRIPT, quietChildEnv, tsxNodeArgs } from './workspace';

/**
 * The fields of dev.ts's stdout line per event that the bench reads (the
 * lakehouse's EventLogEntry); only this public output is relied on, so the
 * bench measures the handler before and after a rewrite alike.
 */
export interface EventLine {
  status: string;
  key: string;
  ms: number;
  goldMs?: number;
  silverKey?: string;
  rejectsKey?: string;
  silverRows?: number;
  rejectedRows?: number;
  reason?: string;
  error?: string;
  /** Processed in this many chunks; absent when whole. */
  chunks?: number;
  /** Above the chunk size but processed whole: why. */
  notSplit?: string;
  /** Of `ms`, each step's time, in the order they ran; absent from a lakehouse that does not report them. */
  stepsMs?: Record<string, number>;
}

/** A local lakehouse running in its own process group, as `pnpm dev` starts it. */
export interface LakehouseProcess {
  /** `http://127.0.0.1:<port>`, read from the banner. */
  readonly endpoint: string;
  /** Also its process group id (spawned detached). */
  readonly pid: number;
  /** The next line for this raw key, with the time it arrived; call it before uploading. */
  whenProcessed(key: string): Promise<{ line: EventLine; at: number }>;
  /** SIGTERM, then waits for it to exit; kills the group if it hangs. */
  stop(): Promise<void>;
}

export interface LakehouseProcessOptions {
  dataDir: string;
  memoryMb: number;
  /** Files above `mb` in chunks, `concurrency` at once (`pnpm dev --chunk-mb --chunk-concurrency`); none: every file whole. */
  chunks?: ChunkSettings;
}

export interface ChunkSettings {
  mb: number;
  concurrency: number;
}

const BANNER = /\bon (http:\/\/127\.0\.0\.1:\d+)/;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 60_000;

/** Groups still running, killed if the bench itself exits early. */
const running = new Set<number>();
process.on('exit', () => {
  for (const pgid of running) killGroup(pgid);
});

export async function startLakehouseProcess(options: LakehouseProcessOptions): Promise<LakehouseProcess> {
  const args = [
    ...tsxNodeArgs(),
    DEV_SCRIPT,
    ...['--port', '0', '--data-dir', options.dataDir, '--concurrency', '1', '--memory-mb', String(options.memoryMb)],
    // Whole unless asked: the bench measures one invocation (pnpm dev would chunk a file above 512 MB).
    ...(options.chunks
      ? ['--chunk-mb', String(options.chunks.mb), '--chunk-concurrency', String(options.chunks.concurrency)]
      : ['--chunk-mb', '0']),
  ];
  const child = spawn(process.execPath, args, {
    cwd: APP_DIR,
    detached: true,
    env: quietChildEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) {
    const [error] = (await once(child, 'error')) as [Error];
    throw new Error(`could not start the local lakehouse: ${error.message}`);
  }
  running.add(pid);
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      running.delete(pid);
      done();
    }),
  );

  const waiters = new Map<string, (arrival: { line: EventLine; at: number }) => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    const at = performance.now();
    const line = parseLine(text);
    if (!line) return;
    waiters.get(line.key)?.({ line, at });
    waiters.delete(line.key);
  });

  let stderr = '';
  const endpoint = await new Promise<string>((resolveEndpoint, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no banner within ${START_TIMEOUT_MS} ms:\n${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = BANNER.exec(stripVTControlCharacters(stderr));
      if (found) {
        clearTimeout(timer);
        resolveEndpoint(found[1] as string);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the local lakehouse exited with ${signal ?? code} before listening:\n${stderr}`));
    });
  }).catch(async (error: Error) => {
    await stopChild(child, pid, exited);
    throw error;
  });
  // Past the banner, only errors matter; keep draining so the child never blocks on a full pipe.
  child.stderr?.removeAllListeners('data');
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = stripVTControlCharacters(chunk.toString());
    if (/error|fail|warn/i.test(text)) process.stderr.write(text);
  });

  return {
    endpoint,
    pid,
    whenProcessed(key) {
      return new Promise((resolveLine, reject) => {
        waiters.set(key, resolveLine);
        void exited.then(() => reject(new Error(`the local lakehouse exited before processing ${key}`)));
      });
    },
    stop: () => stopChild(child, pid, exited),
  };
}

function parseLine(text: string): EventLine | undefined {
  try {
    // The lakehouse's own line, not a handler log line that happens to name a key.
    const parsed = JSON.parse(text) as EventLine & { eventName?: unknown; attempts?: unknown };
    const isEventLine =
      typeof parsed.key === 'string' && typeof parsed.eventName === 'string' && typeof parsed.attempts === 'number';
    return isEventLine ? parsed : undefined;
  } catch {
    return undefined;
  }
}

async function stopChild(child: ChildProcess, pid: number, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const hung = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((done) => (timer = setTimeout(() => done(true), STOP_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (hung) {
    killGroup(pid);
    await exited;
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
