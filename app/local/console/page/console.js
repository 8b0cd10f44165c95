// The console page: live events over Server-Sent Events, lineage, quality charts and uploads, from the JSON API.
import { legend, stackedBars } from './charts.js';
import { api, el } from './dom.js';
import { setUpTables } from './tables.js';

const STATUSES = ['ingested', 'quarantined', 'skipped', 'failed', 'abandoned'];
/** Rows drawn at most; the API keeps more. */
const SHOWN_EVENTS = 500;
const QUALITY_BINS = 12;

const $ = (id) => document.getElementById(id);
const events = [];
let selectedId;

function addOption(select, value) {
  if (!value || [...select.options].some((option) => option.value === value)) return;
  select.append(el('option', { value }, value));
}

/** Runs `fn` at most once per `ms`, after the last call. */
function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

// Header
async function refreshSummary() {
  const summary = await api('/api/summary');
  $('endpoint').textContent = `S3 ${summary.endpoint}`;
  const { stats } = summary;
  $('counts').textContent =
    `${stats.ingested} ingested · ${stats.quarantined} quarantined · ${stats.failed} failed · ` +
    `${stats.running} running · ${stats.waiting} waiting`;
  for (const dataset of summary.datasets) addOption($('filter-dataset'), dataset);
}

// Events
function matchesFilters(event) {
  const dataset = $('filter-dataset').value;
  const status = $('filter-status').value;
  return (!dataset || event.dataset === dataset) && (!status || event.status === status);
}

function eventRow(event) {
  const row = el(
    'tr',
    { 'data-id': event.id, 'data-key': event.key, 'data-status': event.status },
    el('td', { title: event.time }, event.time.slice(11, 19)),
    el('td', {}, event.key),
    el('td', {}, event.dataset ?? ''),
    el('td', { class: `status status-${event.status}` }, event.status),
    el('td', { class: 'num' }, event.silverRows ?? ''),
    el('td', { class: 'num' }, event.rejectedRows ?? ''),
    el('td', { class: 'reason' }, event.reason ?? event.error ?? ''),
    el('td', { class: 'num' }, event.waitMs),
    el('td', { class: 'num' }, event.ms),
    el('td', { class: 'num' }, event.goldMs ?? ''),
  );
  if (event.id === selectedId) row.classList.add('selected');
  row.addEventListener('click', () => showLineage(event.id));
  return row;
}

function renderEvents() {
  const rows = events.filter(matchesFilters).slice(0, SHOWN_EVENTS).map(eventRow);
  $('events').tBodies[0].replaceChildren(...rows);
}

function receive(event) {
  events.unshift(event);
  if (events.length > 5000) events.pop();
  addOption($('filter-dataset'), event.dataset);
  renderEvents();
  refreshSummaryLater();
  if (event.status === 'ingested' || event.status === 'quarantined') refreshQualityLater();
}

function listen() {
  const source = new EventSource('/api/events/stream');
  source.onopen = () => {
    $('live').textContent = 'live';
    $('live').classList.add('on');
    // A reconnect replays the history: start from it again.
    events.length = 0;
  };
  source.onmessage = (message) => receive(JSON.parse(message.data));
  source.onerror = () => {
    $('live').textContent = 'reconnecting…';
    $('live').classList.remove('on');
  };
}

// Lineage
function objectLine(what, object, ...details) {
  const state = object.exists ? '' : el('span', { class: 'gone' }, ' (not there now)');
  return el(
    'div',
    { class: 'step' },
    el(
      'div',
      {},
      el('span', { class: 'what' }, what),
      ' ',
      el('code', {}, `s3://${object.bucket}/${object.key}`),
      state,
    ),
    ...details.map((detail) => el('div', {}, detail)),
  );
}

const arrow = (text) => el('div', { class: 'arrow' }, `↓ ${text}`);

function renderLineage(lineage) {
  const { event, raw } = lineage;
  const rawState = raw.current ? 'current version' : raw.exists ? 'overwritten since' : 'deleted since';
  const parts = [
    objectLine(
      'raw',
      raw,
      `${event.eventName} · ${event.size} bytes · ETag ${event.eTag ?? '?'}${event.versionId ? ` · version ${event.versionId}` : ''} · ${rawState}`,
    ),
    arrow(
      `${event.status} in ${event.ms} ms (queued ${event.waitMs} ms${event.goldMs ? `, gold ${event.goldMs} ms` : ''})`,
    ),
  ];
  if (lineage.silver) parts.push(objectLine('silver', lineage.silver, `${lineage.silver.rows ?? '?'} rows`));
  if (lineage.rejects) {
    const rules = Object.entries(lineage.rejects.rules).map(([rule, rows]) => `${rule} ${rows}`);
    parts.push(objectLine('rejects', lineage.rejects, `${lineage.rejects.rows ?? '?'} rows · ${rules.join(', ')}`));
  }
  if (lineage.quarantine) {
    const record = lineage.quarantine.record ?? {};
    parts.push(
      objectLine(
        'quarantine',
        lineage.quarantine,
        `reason ${record.reason ?? event.reason}`,
        record.error ?? event.error,
      ),
    );
  }
  if (!lineage.silver && !lineage.quarantine)
    parts.push(el('div', { class: 'step' }, event.reason ?? event.error ?? 'no output'));
  if (lineage.gold.length > 0) {
    parts.push(arrow(`gold: ${lineage.gold.length} partition object(s) rebuilt`));
    for (const gold of lineage.gold) parts.push(objectLine(`gold ${gold.table}`, gold, gold.partition));
  } else if (lineage.silver) {
    parts.push(arrow('gold: no partition changed (the dataset has no gold tables, or the file no gold rows)'));
  }
  $('lineage').replaceChildren(el('h3', {}, event.key), ...parts);
}

async function showLineage(id) {
  selectedId = id;
  renderEvents();
  $('lineage').replaceChildren(el('p', { class: 'hint' }, 'reading…'));
  try {
    renderLineage(await api(`/api/events/${id}/lineage`));
  } catch (error) {
    $('lineage').replaceChildren(el('p', { class: 'error' }, error.message));
  }
}

// Quality
function timeBins(times) {
  const min = Math.min(...times);
  const max = Math.max(...times);
  const count = max > min ? QUALITY_BINS : 1;
  const width = (max - min) / count || 1;
  // UTC, as the event times are: the day past a day, tenths of seconds under ten seconds.
  const span = max - min;
  const [from, to] = span > 86_400_000 ? [0, 16] : span < 10_000 ? [11, 21] : [11, 19];
  const label = (t) => new Date(t).toISOString().slice(from, to).replace('T', ' ');
  const bins = Array.from({ length: count }, (_, i) => ({ label: label(min + i * width) }));
  const binOf = (t) => Math.min(count - 1, Math.floor((t - min) / width));
  return { bins, binOf };
}

function qualityChart(title, points, bins, binOf) {
  const series = [...new Set(points.flatMap((point) => Object.keys(point.counts)))].sort();
  const values = bins.map(() => series.map(() => 0));
  for (const point of points) {
    for (const [name, n] of Object.entries(point.counts)) values[binOf(point.time)][series.indexOf(name)] += n;
  }
  const total = values.flat().reduce((sum, n) => sum + n, 0);
  const body = series.length
    ? [stackedBars({ bins, series, values }), legend(series)]
    : [el('p', { class: 'hint' }, 'none')];
  return el('div', { class: 'chart' }, el('h3', {}, `${title} (${total})`), ...body);
}

async function refreshQuality() {
  const report = await api('/api/quality');
  const rejects = report.rejects.map((r) => ({ dataset: r.dataset, time: Date.parse(r.time), counts: r.rules }));
  const quarantined = report.quarantined.map((q) => ({
    dataset: q.dataset,
    time: Date.parse(q.time),
    counts: { [q.reason]: 1 },
  }));
  const all = [...rejects, ...quarantined];
  if (all.length === 0) {
    $('quality').replaceChildren(el('p', { class: 'hint' }, 'No rejected rows or quarantined files yet.'));
    return;
  }
  const { bins, binOf } = timeBins(all.map((point) => point.time));
  const datasets = [...new Set(all.map((point) => point.dataset))].sort();
  $('quality').replaceChildren(
    ...datasets.map((dataset) =>
      el(
        'div',
        { 'data-dataset': dataset },
        el('h3', {}, dataset),
        el(
          'div',
          { class: 'charts' },
          qualityChart(
            'rejected rows by rule',
            rejects.filter((p) => p.dataset === dataset),
            bins,
            binOf,
          ),
          qualityChart(
            'quarantined files by reason',
            quarantined.filter((p) => p.dataset === dataset),
            bins,
            binOf,
          ),
        ),
      ),
    ),
  );
}

// Upload
async function uploadFiles(files) {
  const prefix = $('upload-prefix').value.trim();
  for (const file of files) {
    const key = `${prefix}${prefix && !prefix.endsWith('/') ? '/' : ''}${file.name}`;
    $('upload-status').textContent = `uploading ${key}…`;
    try {
      await api(`/api/upload?key=${encodeURIComponent(key)}`, { method: 'PUT', body: file });
      $('upload-status').textContent = `uploaded ${key}`;
    } catch (error) {
      $('upload-status').textContent = `${key}: ${error.message}`;
    }
  }
}

function setUpUpload() {
  const zone = $('upload');
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    void uploadFiles([...event.dataTransfer.files]);
  });
  $('upload-input').addEventListener('change', (event) => {
    void uploadFiles([...event.target.files]);
    event.target.value = '';
  });
}

const refreshSummaryLater = debounce(() => void refreshSummary().catch(() => {}), 300);
const refreshQualityLater = debounce(() => void refreshQuality().catch(() => {}), 500);

for (const status of STATUSES) addOption($('filter-status'), status);
$('filter-dataset').addEventListener('change', renderEvents);
$('filter-status').addEventListener('change', renderEvents);
setUpUpload();
setUpTables();
listen();
void refreshSummary();
void refreshQuality();
