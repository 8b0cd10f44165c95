import { join, resolve } from 'node:path';
import { Testing } from 'cdktf';
import type {} from 'cdktf/lib/testing/adapters/jest';
import type { DatasetTables } from '../../../app/src/catalog/table-schemas';
import { describeTransformTables } from '../../src/dataset-tables';
import { LakehouseStack, STACK_NAME, type StateBackend } from '../../src/lakehouse-stack';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const APP_DIR = join(REPO_ROOT, 'app');

// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON is untyped
export type Json = Record<string, any>;

export interface Synthesized {
  stack: LakehouseStack;
  /** The synthesized JSON string, for the cdktf matchers. */
  synth: string;
  json: Json;
}

let datasetTables: DatasetTables[] | undefined;

/** Synthesizes the real stack (call once per test file, in beforeAll), with the real transforms' tables. */
export function synthLakehouse(state?: StateBackend): Synthesized {
  const app = Testing.app();
  datasetTables ??= describeTransformTables(APP_DIR);
  const stack = new LakehouseStack(app, STACK_NAME, { imageContextDir: APP_DIR, datasetTables, state });
  const synth = Testing.synth(stack);
  return { stack, synth, json: JSON.parse(synth) as Json };
}

/** The one resource (or data source) of `type` whose logical id starts with `idPrefix`, with its address. */
export function single(json: Json, type: string, idPrefix: string, kind: 'resource' | 'data' = 'resource') {
  const entries = Object.entries((json[kind]?.[type] ?? {}) as Json).filter(([id]) => id.startsWith(idPrefix));
  if (entries.length !== 1) {
    throw new Error(
      `expected one ${kind} ${type}.${idPrefix}*, found ${entries.map(([id]) => id).join(', ') || 'none'}`,
    );
  }
  const [id, config] = entries[0] as [string, Json];
  const address = kind === 'data' ? `data.${type}.${id}` : `${type}.${id}`;
  return { id, config, address, ref: (attribute: string) => `\${${address}.${attribute}}` };
}

export function all(json: Json, type: string): Json[] {
  return Object.values((json.resource?.[type] ?? {}) as Json);
}
