import { datasetOf } from '@lakehouse/contract';
import type { EventLogEntry } from '../local-lakehouse';

/** An event as the console shows it: the lakehouse's entry and a number to name it by. */
export interface ConsoleEvent extends EventLogEntry {
  id: number;
}

export interface EventFilter {
  dataset?: string;
  status?: string;
}

/**
 * The events seen since the console started, newest last, bounded so a
 * long-running `pnpm dev` keeps flat memory; listeners get each new one.
 */
export class EventHistory {
  private readonly events: ConsoleEvent[] = [];
  private readonly listeners = new Set<(event: ConsoleEvent) => void>();
  private nextId = 1;

  constructor(private readonly limit = 5000) {}

  add(entry: EventLogEntry): ConsoleEvent {
    // A failed or abandoned event has no dataset in its entry; its key still tells it.
    const event = { ...entry, dataset: entry.dataset ?? datasetOf(entry.key), id: this.nextId++ };
    this.events.push(event);
    if (this.events.length > this.limit) this.events.shift();
    for (const listener of this.listeners) listener(event);
    return event;
  }

  get(id: number): ConsoleEvent | undefined {
    return this.events.find((event) => event.id === id);
  }

  /** Newest first. */
  list({ dataset, status }: EventFilter = {}): ConsoleEvent[] {
    return this.events
      .filter((event) => (!dataset || event.dataset === dataset) && (!status || event.status === status))
      .reverse();
  }

  subscribe(listener: (event: ConsoleEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
