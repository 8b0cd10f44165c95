import { PoisonFileError } from '../../src/errors';
import { commonType } from '../../src/schema/column-types';
import { type DatasetSchema, planSchema } from '../../src/schema/dataset-schema';

const current: DatasetSchema = {
  dataset: 'people',
  version: 1,
  columns: [
    { name: 'n', type: 'INTEGER' },
    { name: 'note', type: 'VARCHAR' },
    { name: 'tags', type: 'VARCHAR[]' },
  ],
  changes: [],
};
const plan = (file: Array<{ name: string; type: string }>, evolution: 'additive' | 'strict' = 'additive') =>
  planSchema({ dataset: 'people', current, file, evolution, sourceKey: 'people/x.csv', at: new Date(0) });

describe('dataset schema', () => {
  it.each([
    ['INTEGER', 'BIGINT', 'BIGINT'],
    ['BIGINT', 'DOUBLE', 'DOUBLE'],
    ['INTEGER', 'FLOAT', 'DOUBLE'],
    ['DECIMAL(12,2)', 'BIGINT', 'DOUBLE'],
    ['DECIMAL(12,2)', 'DECIMAL(13,4)', 'DECIMAL(14,4)'],
    ['DECIMAL(12,2)', 'DECIMAL(10,5)', 'DECIMAL(15,5)'],
    ['DECIMAL(38,0)', 'DECIMAL(10,5)', 'DOUBLE'],
    ['DATE', 'TIMESTAMP', 'TIMESTAMP'],
    ['BIGINT', 'VARCHAR', undefined],
    ['DATE', 'BIGINT', undefined],
    ['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', undefined],
  ])('%s and %s read as %s', (a, b, common) => {
    expect(commonType(a, b)).toBe(common);
    expect(commonType(b, a)).toBe(common);
  });

  it('casts a narrower type to the schema, and any type to a text column, without a change', () => {
    expect(
      plan([
        { name: 'n', type: 'SMALLINT' },
        { name: 'note', type: 'BIGINT' },
      ]),
    ).toEqual({
      casts: [
        { name: 'n', type: 'INTEGER' },
        { name: 'note', type: 'VARCHAR' },
      ],
      textCasts: [],
    });
  });

  it('keeps JSON (an NDJSON field null in every row) as text', () => {
    const { next, casts } = plan([{ name: 'extra', type: 'JSON' }]);

    expect(casts).toEqual([{ name: 'extra', type: 'VARCHAR' }]);
    expect(next?.columns.at(-1)).toEqual({ name: 'extra', type: 'VARCHAR' });
  });

  it('casts two numbers of different kinds to DOUBLE, widening the schema', () => {
    const { next, casts } = plan([{ name: 'n', type: 'FLOAT' }]);

    expect(casts).toEqual([{ name: 'n', type: 'DOUBLE' }]);
    expect(next?.columns[0]).toEqual({ name: 'n', type: 'DOUBLE' });
    expect(next?.changes).toEqual([
      {
        version: 2,
        change: 'widened',
        column: 'n',
        from: 'INTEGER',
        to: 'DOUBLE',
        at: new Date(0).toISOString(),
        sourceKey: 'people/x.csv',
      },
    ]);
  });

  it('quarantines a type that neither widens nor casts, naming the column and both types', () => {
    expect(() => plan([{ name: 'tags', type: 'BIGINT[]' }])).toThrow(
      new PoisonFileError(
        'schema',
        "column tags is BIGINT[] in this file but VARCHAR[] in dataset people's schema, and BIGINT[] cannot be read as VARCHAR[]",
      ),
    );
  });

  it('in a strict dataset, quarantines a new column but still widens a type', () => {
    expect(() => plan([{ name: 'extra', type: 'VARCHAR' }], 'strict')).toThrow(/column extra \(VARCHAR\) is new/);
    expect(plan([{ name: 'n', type: 'BIGINT' }], 'strict').next?.columns[0]).toEqual({ name: 'n', type: 'BIGINT' });
  });
});
