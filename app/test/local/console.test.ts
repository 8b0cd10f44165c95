import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { type LakehouseConsole, startConsole } from '../../local/console/console-server';
import type { ConsoleEvent } from '../../local/console/event-history';
import type { Lineage } from '../../local/console/lineage';
import type { QualityReport } from '../../local/console/quality';
import type { ConsoleQueryResult, TableSummary } from '../../local/console/tables';
import { type LocalLakehouse, startLocalLakehouse } from '../../local/local-lakehouse';
import { BROWSER_SETUP_MS, openBrowser, type TestBrowser } from '../support/browser';

const SAMPLES = join(__dirname, '..', '..', 'samples', 'trips');

describe('web console', () => {
  let home: string;
  let lakehouse: LocalLakehouse;
  let webConsole: LakehouseConsole;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'console-test-'));
    lakehouse = await startLocalLakehouse({ port: 0, dataDir: join(home, 's3'), log: () => {}, retryDelaysMs: [] });
    webConsole = await startConsole({ lakehouse, port: 0 });
  });
  afterAll(async () => {
    await webConsole?.close();
    await lakehouse?.stop();
    await rm(home, { recursive: true, force: true });
  });

  const api = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const response = await fetch(new URL(path, webConsole.url), init);
    return { status: response.status, body: (await response.json()) as T };
  };

  async function uploadThroughApi(key: string, sample: string) {
    const processed = lakehouse.whenProcessed(key);
    const { status } = await api(`/api/upload?key=${encodeURIComponent(key)}`, {
      method: 'PUT',
      body: await readFile(join(SAMPLES, sample)),
    });
    expect(status).toBe(200);
    return processed;
  }

  describe('in a headless Chromium', () => {
    let browser: TestBrowser;
    let page: Page;

    beforeAll(async () => {
      browser = await openBrowser();
      page = await browser.context.newPage();
    }, BROWSER_SETUP_MS);
    afterAll(() => browser?.close());

    it('uploads a dropped file, shows its event as ingested, and opens its lineage down to gold', async () => {
      const key = 'trips/console/2026-01-15.csv';
      const processed = lakehouse.whenProcessed(key);
      await page.goto(webConsole.url);
      await page.locator('#live.on').waitFor();

      await page.fill('#upload-prefix', 'trips/console/');
      await dropFile(page, '#upload', '2026-01-15.csv', await readFile(join(SAMPLES, '2026-01-15.csv'), 'utf8'));
      const entry = await processed;
      const row = page.locator(`#events tbody tr[data-key="${key}"]`);
      await row.locator('.status', { hasText: 'ingested' }).waitFor();
      await row.click();

      const lineage = page.locator('#lineage');
      await lineage.locator('.step').first().waitFor();
      const text = (await lineage.textContent()) ?? '';
      expect(text).toContain(`s3://raw/${key}`);
      expect(text).toContain(`s3://silver/${entry.silverKey}`);
      expect(text).toContain('38 rows');
      expect(text).toContain(`s3://silver/${entry.rejectsKey}`);
      expect(text).toContain('passengers_integer_0_to_9 2');
      // The sample's two trips after midnight changed the next day's partition too.
      expect(text).toContain('s3://gold/trips/daily_zone_revenue/pickup_date=2026-01-15/data.parquet');
      expect(text).toContain('s3://gold/trips/daily_zone_revenue/pickup_date=2026-01-16/data.parquet');
      await page.locator('#quality [data-dataset="trips"] h3', { hasText: 'rejected rows by rule (6)' }).waitFor();
    });

    it('runs a query of the gold table in the SQL box and shows its rows, and a chart of two numeric or date columns', async () => {
      await page.fill(
        '#sql',
        'select pickup_date, sum(trips) as trips from gold_trips_daily_zone_revenue group by all order by all',
      );
      await page.click('#run-sql');

      const result = page.locator('#query-result');
      await result.locator('table').waitFor();
      const cells = await result
        .locator('tr')
        .evaluateAll((rows) => rows.map((row) => [...row.children].map((cell) => cell.textContent)));
      // 40 trips in the sample, two of them after midnight; the ones with a broken rule never reach gold.
      expect(cells).toEqual([
        ['pickup_date', 'trips'],
        ['2026-01-15', '36'],
        ['2026-01-16', '2'],
      ]);
      expect(await result.locator('svg path').count()).toBe(1);
    });

    it('lists the tables of pnpm query with their rows, and shows a schema and first rows on a click', async () => {
      await page.click('#refresh-tables');
      const silver = page.locator('#table-list tr[data-table="silver_trips"]');
      await silver.waitFor();
      expect(await silver.locator('td').nth(2).textContent()).toBe('38');
      await silver.click();
      const detail = page.locator('#table-detail');
      await detail.locator('h3', { hasText: 'silver_trips · 38 rows' }).waitFor();
      expect(await detail.textContent()).toContain('trip_id');
    });

    it('filters the events by status', async () => {
      await uploadThroughApi('trips/console/zones.csv', 'zones.csv');
      const rows = page.locator('#events tbody tr');
      await page.locator('#events tbody tr[data-key="trips/console/zones.csv"]').waitFor();

      await page.selectOption('#filter-status', 'quarantined');
      expect(await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-status')))).toEqual([
        'quarantined',
      ]);
      await page.selectOption('#filter-status', '');
      expect(await rows.count()).toBe(2);
    });
  });

  describe('JSON API', () => {
    let quarantined: ConsoleEvent;

    beforeAll(async () => {
      await uploadThroughApi('trips/api/2026-01-16.ndjson', '2026-01-16.ndjson');
      await uploadThroughApi('trips/api/zones.csv', 'zones.csv');
      const { body } = await api<ConsoleEvent[]>('/api/events?status=quarantined');
      quarantined = body.find((event) => event.key === 'trips/api/zones.csv') as ConsoleEvent;
    });

    it('lists events newest first, filtered by dataset and status', async () => {
      const all = (await api<ConsoleEvent[]>('/api/events')).body;
      expect(all.map((event) => event.id)).toEqual([...all.map((event) => event.id)].sort((a, b) => b - a));
      const ingested = (await api<ConsoleEvent[]>('/api/events?dataset=trips&status=ingested')).body;
      expect(ingested.length).toBeGreaterThan(0);
      expect(ingested.every((event) => event.status === 'ingested' && event.dataset === 'trips')).toBe(true);
      expect((await api<ConsoleEvent[]>('/api/events?dataset=weather')).body).toEqual([]);
      expect(quarantined).toMatchObject({ status: 'quarantined', reason: 'schema', dataset: 'trips' });
    });

    it("gives an ingested file's lineage: raw version, silver, rejects by rule, and the gold partitions it changed", async () => {
      const event = (await api<ConsoleEvent[]>('/api/events')).body.find(
        (candidate) => candidate.key === 'trips/api/2026-01-16.ndjson',
      ) as ConsoleEvent;
      const { status, body } = await api<Lineage>(`/api/events/${event.id}/lineage`);

      expect(status).toBe(200);
      expect(body.raw).toMatchObject({ bucket: 'raw', key: event.key, exists: true, current: true, eTag: event.eTag });
      expect(body.silver).toMatchObject({ key: event.silverKey, exists: true, rows: 24 });
      expect(body.rejects).toMatchObject({
        key: event.rejectsKey,
        rows: 2,
        rules: { distance_km_non_negative: 1, payment_type_accepted: 1 },
      });
      expect(body.gold.map((gold) => [gold.table, gold.partition, gold.exists])).toEqual(
        event.goldPartitions?.map((partition) => ['daily_zone_revenue', `pickup_date=${partition}`, true]),
      );
      expect(event.goldPartitions).toContain('2026-01-16');
    });

    it("gives a quarantined file's lineage: its quarantine record, no silver, no gold", async () => {
      const { body } = await api<Lineage>(`/api/events/${quarantined.id}/lineage`);
      expect(body.quarantine).toMatchObject({
        key: quarantined.quarantineKey,
        exists: true,
        record: { key: 'trips/api/zones.csv', reason: 'schema' },
      });
      expect(body.silver).toBeUndefined();
      expect(body.gold).toEqual([]);
    });

    it('reports quality from silver: rejected rows by rule and quarantined files by reason, with their times', async () => {
      const { body } = await api<QualityReport>('/api/quality');
      const rejects = body.rejects.find((summary) => summary.key.startsWith('_rejects/trips/2026-01-16'));
      expect(rejects).toMatchObject({ dataset: 'trips', rows: 2, rules: { payment_type_accepted: 1 } });
      expect(Date.parse(rejects?.time ?? '')).toBeGreaterThan(Date.now() - 600_000);
      expect(body.quarantined).toContainEqual(
        expect.objectContaining({ dataset: 'trips', source: 'trips/api/zones.csv', reason: 'schema' }),
      );
    });

    it('streams the events as Server-Sent Events, the ones so far first', async () => {
      const first = await new Promise<string>((resolve, reject) => {
        const request = httpRequest(new URL('/api/events/stream', webConsole.url), (response) => {
          expect(response.headers['content-type']).toBe('text/event-stream');
          let received = '';
          response.setEncoding('utf8').on('data', (chunk: string) => {
            received += chunk;
            const data = /^data: (.+)\n\n/m.exec(received)?.[1];
            if (data === undefined) return;
            resolve(data);
            request.destroy();
          });
        });
        request.on('error', reject).end();
      });
      const event = JSON.parse(first) as ConsoleEvent;
      expect(event).toMatchObject({ id: 1, bucket: 'raw' });
    });

    it('lists the tables under their catalog names, with schema, row count and first rows', async () => {
      const { body } = await api<TableSummary[]>('/api/tables');
      const byName = new Map(body.map((table) => [table.name, table]));
      expect([...byName.keys()]).toEqual(
        expect.arrayContaining(['silver_trips', 'rejects_trips', 'gold_trips_daily_zone_revenue', 'quarantine']),
      );
      const quarantine = byName.get('quarantine');
      expect(quarantine?.rows).toBe(quarantine?.objects);
      expect(quarantine?.rows).toBeGreaterThanOrEqual(1);
      const gold = byName.get('gold_trips_daily_zone_revenue');
      expect(gold?.columns.map((column) => column.name)).toContain('pickup_date');
      expect(gold?.firstRows.rows.length).toBe(Math.min(5, gold?.rows ?? 0));
    });

    it("runs SQL as pnpm query does, and answers a wrong query with DuckDB's reason", async () => {
      const { status, body } = await api<ConsoleQueryResult>('/api/query', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql: "select count(*) as files from quarantine where reason = 'schema'" }),
      });
      expect(status).toBe(200);
      expect(body).toMatchObject({ columns: ['files'], rowCount: 1 });
      expect(body.rows[0]?.[0]).toBeGreaterThanOrEqual(1);

      const wrong = await api<{ error: string }>('/api/query', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql: 'select nope from silver_trips' }),
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body.error).toMatch(/nope/);
      // A form post from another page cannot send JSON without asking first.
      expect((await api('/api/query', { method: 'POST', body: 'sql=select 1' })).status).toBe(415);
    });

    it('answers a missing event, an upload without a key and an unknown path with a status and a reason', async () => {
      expect(await api('/api/events/999999/lineage')).toMatchObject({ status: 404, body: { error: /no event/ } });
      expect(await api('/api/upload', { method: 'PUT', body: 'a' })).toMatchObject({ status: 400 });
      expect(await api('/api/nothing')).toMatchObject({ status: 404 });
    });

    it('refuses requests from other sites and other host names', async () => {
      const crossSite = await api('/api/events', { headers: { origin: 'http://example.com' } });
      expect(crossSite.status).toBe(403);
      const rebound = await new Promise<number>((resolve, reject) => {
        httpRequest(new URL('/api/events', webConsole.url), {
          headers: { host: `attacker.example:${webConsole.port}` },
        })
          .on('response', (response) => resolve(response.statusCode ?? 0))
          .on('error', reject)
          .end();
      });
      expect(rebound).toBe(403);
    });

    it('listens on loopback only', async () => {
      expect(webConsole.url).toBe(`http://127.0.0.1:${webConsole.port}/`);
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((address) => address && address.family === 'IPv4' && !address.internal);
      expect(outside).toBeDefined();
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(webConsole.port, outside?.address as string);
        socket
          .on('connect', () => resolve('connected'))
          .on('error', (error: NodeJS.ErrnoException) => {
            resolve(error.code ?? 'error');
          });
      });
      expect(refused).toBe('ECONNREFUSED');
    });
  });
});

/** Drops a file on an element as a user dragging it from their desktop would. */
async function dropFile(page: Page, selector: string, name: string, text: string): Promise<void> {
  await page.locator(selector).evaluate(
    (target, file) => {
      // The page's globals (this file is type-checked without the DOM library).
      const { DataTransfer, DragEvent } = globalThis as unknown as {
        DataTransfer: new () => { items: { add(file: File): void } };
        DragEvent: new (type: string, init: object) => Event;
      };
      const transfer = new DataTransfer();
      transfer.items.add(new File([file.text], file.name, { type: 'text/csv' }));
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    },
    { name, text },
  );
}
