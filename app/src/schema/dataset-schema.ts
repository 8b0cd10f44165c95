import type { ColumnSchema } from '../catalog/table-schemas';
import { PoisonFileError } from '../errors';
import { commonType, TEXT } from './column-types';

/**
 * A dataset's current silver schema: every column any of its silver files
 * has, with the type all of them read as. It only grows: a new column is
 * appended, a type only widens, so every silver file written before still
 * reads under it (a column a file lacks reads as null).
 */
export interface DatasetSchema {
  dataset: string;
  /** 1 for the first file's columns, +1 per change. */
  version: number;
  columns: SchemaColumn[];
  /** How it got here, oldest first. */
  changes: SchemaChange[];
}

/** A column: its name and DuckDB type, as DESCRIBE prints it. */
export type SchemaColumn = ColumnSchema;

export type SchemaChange = { version: number; at: string; sourceKey: string } & (
  | { change: 'created' }
  | { change: 'added'; column: string; type: string }
  | { change: 'widened'; column: string; from: string; to: string }
);

/** `"schemaEvolution"` in contract.json: `additive` (the default) adds new columns, `strict` quarantines them. */
export type SchemaEvolution = 'additive' | 'strict';

export interface TextCast extends SchemaColumn {
  /** The column's type in the file. */
  from: string;
}

export interface SchemaPlan {
  /** The schema once this file is in; undefined when it does not change. */
  next?: DatasetSchema;
  /** Columns of the file to cast to the schema's type before it is published. */
  casts: SchemaColumn[];
  /** Text columns cast to the schema's type: every value must cast (checked while casting). */
  textCasts: TextCast[];
}

interface PlanInput {
  dataset: string;
  current: DatasetSchema | undefined;
  /** The silver file's columns. */
  file: readonly SchemaColumn[];
  evolution: SchemaEvolution;
  sourceKey: string;
  at: Date;
}

/**
 * What a silver file does to its dataset's schema: nothing, adds columns,
 * widens types; or, when the file cannot be read under the schema (a type
 * that neither widens nor casts, or a new column in a strict dataset), a
 * PoisonFileError `schema` naming the column and both types.
 */
export function planSchema({ dataset, current, file, evolution, sourceKey, at }: PlanInput): SchemaPlan {
  const stamp = { at: at.toISOString(), sourceKey };
  if (!current) {
    const columns = file.map(({ name, type }) => ({ name, type: readAs(type) }));
    return {
      next: { dataset, version: 1, columns, changes: [{ version: 1, change: 'created', ...stamp }] },
      casts: columns.filter((column, i) => column.type !== file[i]?.type),
      textCasts: [],
    };
  }
  const columns = current.columns.map((column) => ({ ...column }));
  const changes: SchemaChange[] = [];
  const casts: SchemaColumn[] = [];
  const textCasts: TextCast[] = [];
  const version = () => current.version + changes.length + 1;
  for (const { name, type: written } of file) {
    const type = readAs(written);
    let target = type;
    const known = columns.find((column) => column.name === name);
    if (!known) {
      if (evolution === 'strict') {
        throw new PoisonFileError(
          'schema',
          `column ${name} (${type}) is new to dataset ${dataset}, whose contract sets "schemaEvolution": "strict"; ` +
            `its columns are ${current.columns.map((column) => column.name).join(', ')}`,
        );
      }
      columns.push({ name, type });
      changes.push({ version: version(), change: 'added', column: name, type, ...stamp });
    } else if (known.type !== type) {
      const common = commonType(known.type, type);
      if (common !== undefined) {
        if (common !== known.type) {
          changes.push({ version: version(), change: 'widened', column: name, from: known.type, to: common, ...stamp });
          known.type = common;
        }
        target = common;
      } else if (known.type === TEXT) {
        target = TEXT;
      } else if (type === TEXT) {
        textCasts.push({ name, type: known.type, from: written });
        continue;
      } else {
        throw incompatible(dataset, name, written, known.type);
      }
    }
    if (target !== written) casts.push({ name, type: target });
  }
  if (changes.length === 0) return { casts, textCasts };
  return {
    next: { dataset, version: current.version + changes.length, columns, changes: [...current.changes, ...changes] },
    casts,
    textCasts,
  };
}

/**
 * DuckDB's JSON type is text to every other reader (Glue's `string`), and it
 * is what an NDJSON field that is null in every row gets: it is kept as text.
 */
const readAs = (type: string) => (type === 'JSON' ? TEXT : type);

export function incompatible(dataset: string, column: string, fileType: string, schemaType: string, detail = '') {
  return new PoisonFileError(
    'schema',
    `column ${column} is ${fileType} in this file but ${schemaType} in dataset ${dataset}'s schema, and ` +
      `${fileType} cannot be read as ${schemaType}${detail}`,
  );
}
