import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALARMS } from '../src/monitoring/alarms';
import { REPO_ROOT, synthLakehouse } from './support/synth';

/** The first-column names of the README table whose header starts with `| <first> |`. */
function tableNames(markdown: string, first: string): string[] {
  const lines = markdown.split('\n');
  const header = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  if (header < 0) throw new Error(`README has no table starting with "| ${first} |"`);
  const rows = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|')[1] ?? '');
  }
  return rows.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)).sort();
}

describe("the README's deploy and operate tables", () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const synthesized = synthLakehouse().json;

  it('list every Terraform variable of the stack, and no other', () => {
    expect(tableNames(readme, 'variable | default')).toEqual(Object.keys(synthesized.variable).sort());
  });

  it('list every output, and no other', () => {
    expect(tableNames(readme, 'output')).toEqual(Object.keys(synthesized.output).sort());
  });

  it('list every alarm, and no other', () => {
    expect(tableNames(readme, 'alarm')).toEqual(
      Object.values(ALARMS)
        .map((alarm) => alarm.suffix)
        .sort(),
    );
  });
});
