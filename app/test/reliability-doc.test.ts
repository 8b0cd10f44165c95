import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '..', '..');
const DOC = readFileSync(join(REPO, 'docs', 'reliability.md'), 'utf8');

interface Section {
  title: string;
  file: string;
  count: number;
  /** Cases in its table: a row is one case, or `(N cases)` when it says so. */
  rows: number;
}

/** The doc's case sections: `### Title ([`file`](path), N…)` and the table below each. */
function sections(): Section[] {
  const parts = DOC.split(/^### /m).slice(1);
  return parts.flatMap((part) => {
    const heading = /^(.*)\(\[`[^`]+`\]\(([^)]+)\), (\d+)/.exec(part);
    if (!heading) return [];
    const table = part.split('\n').filter((line) => line.startsWith('| ') && !/^\| case \|/.test(line));
    const rows = table.reduce((sum, line) => sum + Number(/\((\d+) cases\)/.exec(line)?.[1] ?? 1), 0);
    return [{ title: (heading[1] ?? '').trim(), file: heading[2] ?? '', count: Number(heading[3]), rows }];
  });
}

describe('docs/reliability.md, the table of faults and hostile input', () => {
  it('counts each section as the cases its table lists', () => {
    const found = sections();
    expect(found.length).toBeGreaterThan(5);
    for (const section of found) expect([section.title, section.rows]).toEqual([section.title, section.count]);
  });

  it('gives the sum of the sections as the number of cases, and the README says the same', () => {
    const total = sections().reduce((sum, section) => sum + section.count, 0);
    expect(DOC).toContain(`## The cases: ${total}`);
    expect(readFileSync(join(REPO, 'README.md'), 'utf8')).toContain(`${total} cases, each with its outcome`);
  });

  it('names test files that exist', () => {
    for (const section of sections())
      expect([section.file, existsSync(join(REPO, 'docs', section.file))]).toEqual([section.file, true]);
  });
});
