import { availableParallelism, cpus, totalmem } from 'node:os';
import { version as duckdbVersion } from '@duckdb/node-api';
import type { DuckdbSizing } from './lambda-duckdb';

/** What the figures were measured on, written beside them. */
export interface Machine {
  cpuModel: string;
  cores: number;
  ramGb: number;
  platform: string;
  node: string;
  duckdb: string;
  /** The Lambda memory size the run stood for, and what DuckDB got of it. */
  lambdaMemoryMb: number;
  duckdbMemoryLimitMb: number;
  duckdbThreads: number;
}

export function describeMachine(lambdaMemoryMb: number, sizing: DuckdbSizing): Machine {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    ramGb: Math.round(totalmem() / 1024 ** 3),
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    duckdb: duckdbVersion(),
    lambdaMemoryMb,
    duckdbMemoryLimitMb: sizing.memoryLimitMb,
    duckdbThreads: sizing.threads,
  };
}

export const machineLine = (machine: Machine) =>
  `${machine.cpuModel}, ${machine.cores} cores, ${machine.ramGb} GB RAM, ${machine.platform}, Node ${machine.node}, ` +
  `DuckDB ${machine.duckdb}; Lambda memory ${machine.lambdaMemoryMb} MB ` +
  `(DuckDB limit ${machine.duckdbMemoryLimitMb} MB, ${machine.duckdbThreads} threads)`;
