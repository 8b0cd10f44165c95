import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatCount } from '@lakehouse/app/local/terminal';
import { type TripGeneratorOptions, writeTrips } from '@lakehouse/app/local/trip-generator';
import { progressLine } from './progress';
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
      let reported = performance.now();
      file = writeTrips(path, {
        ...options,
        // A 20M-row file takes about 40 s to write: say how far it is.
        onProgress: (written) => {
          if (performance.now() - reported < 5000) return;
          reported = performance.now();
          progressLine(`  ${formatCount(written)} of ${formatCount(options.rows)} trips written`);
        },
      }).then((generated) => ({ path, ...generated }));
      this.files.set(name, file);
    }
    return file;
  }

  remove(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}
