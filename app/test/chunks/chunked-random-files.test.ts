import fc from 'fast-check';
import { loadConfig } from '../../src/config';
import { handleS3Event } from '../../src/handler';
import type { IngestOutcome } from '../../src/ingest/ingest-object';
import { createRuntime, type Runtime } from '../../src/runtime';
import { eventOf, startTestLakehouse, type TestLakehouse } from '../support/lakehouse';
import { publishedFile } from '../support/published';
import { FC_SEED } from '../support/random-trips';
import { trip, tripsCsv } from '../support/trips';

/** A field as exports write them: plain, padded, quoted with delimiters and quotes inside, multi-byte, empty. */
const text = fc.oneof(
  fc.constantFrom('Downtown', 'Airport', 'Old Town'),
  fc.constantFrom(' Harbour ', 'Harbour, North', 'the "Pier"', 'Café', '北区', 'Zürich 🚕', ''),
);

/** One line of the file: a trip (some breaking rules), a blank line, or a line with the wrong number of fields. */
const line = fc.oneof(
  { weight: 8, arbitrary: fc.record({ zone: text, payment: text, fare: fc.integer({ min: -5, max: 60 }) }) },
  { weight: 1, arbitrary: fc.constant('blank' as const) },
  { weight: 1, arbitrary: fc.constantFrom('too,few', 'x,2026-01-15 08:00:00,1,1,1,card,Downtown,extra') },
);

const fileArbitrary = fc.record({
  lines: fc.array(line, { minLength: 1, maxLength: 60 }),
  crlf: fc.boolean(),
  finalNewline: fc.boolean(),
  chunkBytes: fc.integer({ min: 120, max: 2_000 }),
});

type RandomFile = typeof fileArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** The file: the trips header, then the lines, with its line ends. */
function body({ lines, crlf, finalNewline }: RandomFile): string {
  let n = 0;
  const written = lines.map((entry) => {
    if (entry === 'blank') return '';
    if (typeof entry === 'string') return entry;
    n++;
    const row = trip({
      trip_id: `f${n}`,
      pickup_zone: entry.zone,
      payment_type: entry.payment || 'card',
      fare: entry.fare,
    });
    return tripsCsv([row]).split('\n').slice(1, -1).join('\n');
  });
  const [header] = tripsCsv([]).split('\n');
  const joined = [header, ...written].join(crlf ? '\r\n' : '\n');
  return finalNewline ? `${joined}${crlf ? '\r\n' : '\n'}` : joined;
}

describe('files in chunks over random files: exactly the single-invocation result', () => {
  let single: TestLakehouse;
  let chunked: TestLakehouse;
  let chunkedRt: Runtime;
  beforeAll(async () => {
    [single, chunked] = await Promise.all([startTestLakehouse(), startTestLakehouse()]);
    chunkedRt = createRuntime(loadConfig(chunked.env));
  });
  afterAll(async () => {
    await Promise.all([single.close(), chunked.close()]);
  });

  async function ingest(lake: TestLakehouse, rt: Runtime, key: string, file: string): Promise<IngestOutcome> {
    const [outcome] = await handleS3Event(eventOf(await lake.upload(key, file)), rt);
    if (!outcome) throw new Error('no outcome');
    return outcome;
  }

  it('gives the same outcome, rows, rejects and gold, whatever the quoting, line ends, blank and broken lines', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fileArbitrary, async (file) => {
        const key = `trips/random-${n++}.csv`;
        const csv = body(file);
        const rt = { ...chunkedRt, chunks: { chunkBytes: file.chunkBytes, concurrency: 2, retryDelaysMs: [] } };
        const whole = await ingest(single, single.rt, key, csv);
        const inChunks = await ingest(chunked, rt, key, csv);

        // A quarantine's error names the chunk that failed: the outcomes agree on what happened and why.
        expect({ status: inChunks.status, reason: 'reason' in inChunks ? inChunks.reason : undefined }).toEqual({
          status: whole.status,
          reason: 'reason' in whole ? whole.reason : undefined,
        });
        if (whole.status === 'ingested') {
          expect(await publishedFile(chunked, inChunks)).toEqual(await publishedFile(single, whole));
        }
      }),
      { numRuns: 25, seed: FC_SEED, endOnFailure: true },
    );
  }, 180_000);
});
