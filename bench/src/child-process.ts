import { fork } from 'node:child_process';
import { quietChildEnv, tsxNodeArgs } from './workspace';

/** What a child script sends back: its figures, or why it could not produce them. */
export type ChildMessage<T> = { ok: true; result: T } | { ok: false; error: string };

/**
 * Runs a TypeScript child script in a fresh Node process and resolves with the
 * one result it sends over IPC. Its stderr shows in the console.
 */
export function runChildScript<T>(script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<T> {
  return new Promise((resolveResult, reject) => {
    const child = fork(script, args, {
      execArgv: tsxNodeArgs(),
      env: quietChildEnv(env),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let message: ChildMessage<T> | undefined;
    child.on('message', (received) => {
      message = received as ChildMessage<T>;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (message?.ok) resolveResult(message.result);
      else if (message) reject(new Error(message.error));
      else reject(new Error(`${script} exited with ${signal ?? code} and sent no result`));
    });
  });
}

/** For child scripts: runs `measure`, sends its result (or its error) to the parent, then exits. */
export function replyToParent<T>(measure: () => Promise<T>): void {
  const send = (message: ChildMessage<T>, code: number) =>
    process.send ? process.send(message, () => process.exit(code)) : process.exit(code);
  measure().then(
    (result) => send({ ok: true, result }, 0),
    (error: unknown) => send({ ok: false, error: error instanceof Error ? error.message : String(error) }, 1),
  );
}

/** The peak resident set of this process so far, in MB. */
export const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);
