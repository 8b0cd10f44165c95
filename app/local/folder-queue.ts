import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ReceivedMessage {
  id: string;
  receiptHandle: string;
  body: string;
}

/**
 * A queue kept as one JSON file per message in a folder, so it outlives the
 * process: the local lakehouse's failed-events queue and gold dead-letter
 * queue. Received messages are hidden for their visibility timeout, as in SQS.
 */
export class FolderQueue {
  private readonly hiddenUntil = new Map<string, number>();

  constructor(readonly dir: string) {}

  /** Adds a message; `body` is its text, as SQS keeps it. */
  async add(body: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}.json`;
    await writeFile(join(this.dir, name), body);
  }

  async receive(max: number, visibilitySeconds: number): Promise<ReceivedMessage[]> {
    const now = Date.now();
    const visible = (await this.names()).filter((name) => (this.hiddenUntil.get(name) ?? 0) <= now).slice(0, max);
    const messages: ReceivedMessage[] = [];
    for (const name of visible) {
      const body = await readFile(join(this.dir, name), 'utf8').catch(() => undefined);
      if (body === undefined) continue;
      if (visibilitySeconds > 0) this.hiddenUntil.set(name, now + visibilitySeconds * 1000);
      messages.push({ id: name.replace(/\.json$/, ''), receiptHandle: name, body });
    }
    return messages;
  }

  async delete(receiptHandle: string): Promise<void> {
    if (receiptHandle.includes('/') || !receiptHandle.endsWith('.json')) return;
    this.hiddenUntil.delete(receiptHandle);
    await rm(join(this.dir, receiptHandle), { force: true });
  }

  /** Messages waiting, oldest first. */
  async names(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((name) => name.endsWith('.json')).sort();
  }
}
