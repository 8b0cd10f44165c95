import { catalogName, glueType, goldTable, rejectsTable, silverTable } from '../src/catalog';

describe('catalogName', () => {
  it('keeps a name that is already a valid table name', () => {
    expect(catalogName('trips')).toBe('trips');
    expect(catalogName('daily_zone_revenue')).toBe('daily_zone_revenue');
    expect(catalogName('v2_events')).toBe('v2_events');
  });

  it.each([
    ['Trips', /^trips__[0-9a-f]{8}$/],
    ['Café Orders', /^cafe_orders__[0-9a-f]{8}$/],
    ['sales-eu', /^sales_eu__[0-9a-f]{8}$/],
    ['2026 exports', /^d_2026_exports__[0-9a-f]{8}$/],
    ['a__b', /^a_b__[0-9a-f]{8}$/],
    ['日本', /^d__[0-9a-f]{8}$/],
  ])('maps %j to a valid, marked name', (name, expected) => {
    const mapped = catalogName(name);
    expect(mapped).toMatch(expected);
    expect(mapped).toMatch(/^[a-z][a-z0-9_]*$/);
  });

  it('never gives two datasets one table', () => {
    const names = [
      'trips',
      'Trips',
      'TRIPS',
      'trips ',
      'trips-',
      'trips__x',
      'sales-eu',
      'sales eu',
      'sales_eu',
      'Sales_EU',
    ];
    const mapped = names.map(catalogName);
    expect(new Set(mapped).size).toBe(names.length);
  });

  it('prefixes tables by zone', () => {
    expect(silverTable('trips')).toBe('silver_trips');
    expect(rejectsTable('trips')).toBe('rejects_trips');
    expect(goldTable('trips', 'daily_zone_revenue')).toBe('gold_trips_daily_zone_revenue');
  });
});

describe('glueType', () => {
  it.each([
    ['BOOLEAN', 'boolean'],
    ['INTEGER', 'int'],
    ['BIGINT', 'bigint'],
    ['DOUBLE', 'double'],
    ['DECIMAL(10,2)', 'decimal(10,2)'],
    ['VARCHAR', 'string'],
    ['DATE', 'date'],
    ['TIMESTAMP', 'timestamp'],
    ['TIMESTAMP WITH TIME ZONE', 'timestamp'],
    ['BLOB', 'binary'],
    ['VARCHAR[]', 'array<string>'],
    ['STRUCT(a INTEGER, "B c" VARCHAR[])', 'struct<a:int,b c:array<string>>'],
    ['MAP(VARCHAR, STRUCT(x DOUBLE, y DECIMAL(18,3)))', 'map<string,struct<x:double,y:decimal(18,3)>>'],
    ['INTERVAL', 'string'],
  ])('%s -> %s', (duckdb, glue) => {
    expect(glueType(duckdb)).toBe(glue);
  });
});
