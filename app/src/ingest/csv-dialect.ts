/**
 * A CSV's dialect, checked against its header line. DuckDB's sniffer guesses
 * from a sample of rows, and on a file with ragged rows it can guess a
 * dialect that reshapes the file without a word (one column holding
 * `2026-01-15,10`, or the header skipped with the rows before the last).
 * The header line is what the file says it is: a guess that does not read it
 * as the most columns a candidate delimiter gives is replaced by that reading.
 */
export interface CsvDialect {
  delimiter: string;
  /** '' for none. */
  quote: string;
  escape: string;
  header: boolean;
  /** The header's names, in order (column0… when the file has no header). */
  columns: string[];
}

/** What DuckDB's sniff_csv answered. */
export interface SniffedDialect {
  delimiter: string;
  quote: string;
  escape: string;
  header: boolean;
  skipRows: number;
  columnCount: number;
}

/** DuckDB's limit on one CSV line (its max_line_size default). */
export const CSV_MAX_LINE_BYTES = 2_000_000;

/** The delimiters DuckDB's sniffer tries, and Hive's default text delimiter (\x01), which it does not. */
const DELIMITERS = [',', '\t', ';', '|', '\x01'];

/** The first line of the text: up to the first line break outside quotes, without a byte-order mark. */
export function firstLine(text: string, quote = '"'): { line: string; complete: boolean } {
  const body = text.replace(/^\uFEFF/, '');
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const char = body[i];
    if (quote && char === quote) quoted = !quoted;
    else if (!quoted && (char === '\n' || char === '\r')) return { line: body.slice(0, i), complete: true };
  }
  return { line: body, complete: false };
}

/** Fields of one line; a doubled quote inside quotes is a literal quote. */
export function splitFields(line: string, delimiter: string, quote: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote && char === quote) {
      if (quoted && line[i + 1] === quote) {
        field += quote;
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (!quoted && char === delimiter) {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  fields.push(field);
  return fields;
}

/**
 * The sniffer's dialect when it agrees with the header line: no rows skipped,
 * as many columns as the header has, and no candidate delimiter splitting the
 * header into more fields. Otherwise the header line's own dialect: the
 * delimiter that splits it into the most fields, double quotes.
 */
export function checkedDialect(headerLine: string, sniffed: SniffedDialect | undefined): CsvDialect {
  const fieldCount = (delimiter: string, quote = '"') => splitFields(headerLine, delimiter, quote).length;
  const most = Math.max(...DELIMITERS.map((delimiter) => fieldCount(delimiter)));
  if (
    sniffed &&
    sniffed.skipRows === 0 &&
    fieldCount(sniffed.delimiter, sniffed.quote) === most &&
    sniffed.columnCount === most
  ) {
    const columns = sniffed.header
      ? uniqueNames(splitFields(headerLine, sniffed.delimiter, sniffed.quote).map((name) => name.trim()))
      : Array.from({ length: most }, (_, i) => `column${i}`);
    return {
      delimiter: sniffed.delimiter,
      quote: sniffed.quote,
      escape: sniffed.escape,
      header: sniffed.header,
      columns,
    };
  }
  const delimiter = DELIMITERS.find((candidate) => fieldCount(candidate) === most) as string;
  const names = splitFields(headerLine, delimiter, '"').map((name) => name.trim());
  return { delimiter, quote: '"', escape: '"', header: true, columns: uniqueNames(names) };
}

/** Names DuckDB accepts as a columns list: none empty, none twice. */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((name, i) => {
    let unique = name || `column${i}`;
    for (let n = 2; seen.has(unique.toLowerCase()); n++) unique = `${name || `column${i}`}_${n}`;
    seen.add(unique.toLowerCase());
    return unique;
  });
}
