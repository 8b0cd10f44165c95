// Tables and the SQL box: the catalog names of `pnpm query`, and queries run by the same engine.
import { lineChart } from './charts.js';
import { api, el } from './dom.js';

const $ = (id) => document.getElementById(id);
const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;
const DATE = /^\d{4}-\d{2}-\d{2}([ T][\d:.]+)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

// Decimals come as exact text: they align as numbers too.
const isNumber = (value) => typeof value === 'number' || (typeof value === 'string' && NUMBER.test(value));
const cell = (value) => (value === null ? 'NULL' : typeof value === 'object' ? JSON.stringify(value) : value);

/** A result as a table: column names, then rows. */
function resultTable({ columns, rows }) {
  return el(
    'div',
    { class: 'scroll' },
    el(
      'table',
      {},
      el('thead', {}, el('tr', {}, ...columns.map((column) => el('th', {}, column)))),
      el(
        'tbody',
        {},
        ...rows.map((row) =>
          el('tr', {}, ...row.map((value) => el('td', { class: isNumber(value) ? 'num' : '' }, cell(value)))),
        ),
      ),
    ),
  );
}

/** How a column's values plot: as numbers, as dates, or not at all. */
function axisKind(rows, index) {
  const values = rows.map((row) => row[index]).filter((value) => value !== null);
  if (values.length === 0) return undefined;
  if (values.every(isNumber)) return 'number';
  if (values.every((value) => typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(value)))) {
    return 'date';
  }
  return undefined;
}

/** For a result with two numeric or date columns: the second against the first. */
function quickChart({ columns, rows }) {
  const plottable = columns.map((_, index) => axisKind(rows, index));
  const x = plottable.findIndex((kind) => kind);
  const y = plottable.findIndex((kind, index) => index > x && kind === 'number');
  if (x < 0 || y < 0 || rows.length < 2) return undefined;
  const xIsTime = plottable[x] === 'date';
  const points = rows
    .filter((row) => row[x] !== null && row[y] !== null)
    .map((row) => ({ x: xIsTime ? Date.parse(row[x]) : Number(row[x]), y: Number(row[y]) }));
  return el('div', { class: 'chart wide' }, lineChart({ points, xIsTime, xLabel: columns[x], yLabel: columns[y] }));
}

async function runSql() {
  const sql = $('sql').value.trim();
  if (!sql) return;
  $('query-result').replaceChildren(el('p', { class: 'hint' }, 'running…'));
  try {
    const result = await api('/api/query', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql }),
    });
    const shown = result.rowCount > result.rows.length ? ` (the first ${result.rows.length} shown)` : '';
    $('query-result').replaceChildren(
      el('p', { class: 'hint' }, `${result.rowCount} row${result.rowCount === 1 ? '' : 's'}${shown}`),
      resultTable(result),
      quickChart(result),
    );
  } catch (error) {
    $('query-result').replaceChildren(el('p', { class: 'error' }, error.message));
  }
}

function showTable(table) {
  const columns = el(
    'table',
    {},
    el('thead', {}, el('tr', {}, el('th', {}, 'column'), el('th', {}, 'type'))),
    el(
      'tbody',
      {},
      ...table.columns.map((column) => el('tr', {}, el('td', {}, column.name), el('td', {}, column.type))),
    ),
  );
  $('table-detail').replaceChildren(
    el('h3', {}, `${table.name} · ${table.rows} rows · ${table.objects} object(s)`),
    el(
      'div',
      { class: 'charts' },
      el('div', {}, columns),
      el('div', { class: 'first-rows' }, resultTable(table.firstRows)),
    ),
  );
  if (!$('sql').value.trim()) $('sql').value = `select * from ${table.name} limit 10`;
}

export async function refreshTables() {
  $('tables').replaceChildren(el('p', { class: 'hint' }, 'reading…'));
  try {
    const tables = await api('/api/tables');
    const rows = tables.map((table) => {
      const row = el(
        'tr',
        { 'data-table': table.name },
        el('td', {}, table.name),
        el('td', {}, table.kind),
        el('td', { class: 'num' }, table.rows),
        el('td', { class: 'num' }, table.columns.length),
      );
      row.addEventListener('click', () => showTable(table));
      return row;
    });
    const head = el('tr', {}, ...['table', 'kind', 'rows', 'columns'].map((name) => el('th', {}, name)));
    $('tables').replaceChildren(el('table', { id: 'table-list' }, el('thead', {}, head), el('tbody', {}, ...rows)));
  } catch (error) {
    $('tables').replaceChildren(el('p', { class: 'error' }, error.message));
  }
}

export function setUpTables() {
  $('run-sql').addEventListener('click', () => void runSql());
  $('sql').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void runSql();
  });
  $('refresh-tables').addEventListener('click', () => void refreshTables());
  void refreshTables();
}
