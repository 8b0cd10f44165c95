import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type TripGeneratorOptions, writeTrips } from '@lakehouse/app/local/trip-generator';
import { scratchDir } from './scratch';

export interface TripsFile {
  path: string;
  rows: number;
  badRows: number;
  bytes: number;
}

/**
 * The generated trips files of one bench run, in a temp folder removed at the
 * end. A file asked for twice under one name is generated once, so every step
 * of a scenario reads the same bytes.
 */
export class TripsFiles {
  private readonly files = new Map<string, Promise<TripsFile>>();

  private constructor(readonly dir: string) {}

  static async create(): Promise<TripsFiles> {
    return new TripsFiles(await scratchDir('trips'));
  }

  file(name: string, options: TripGeneratorOptions): Promise<TripsFile> {
    let file = this.files.get(name);
    if (!file) {
      const path = join(this.dir, `${name}.csv`);
      file = writeTrips(path, options).then((generated) => ({ path, ...generated }));
      this.files.set(name, file);
    }
    return file;
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}
