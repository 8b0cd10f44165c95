/**
 * Which DuckDB column types a dataset's schema may widen to, so that every
 * silver file written under the narrower type still reads under the wider
 * one: integers to wider integers and to DOUBLE, a DECIMAL to one with more
 * digits, FLOAT and DECIMAL to DOUBLE, DATE to TIMESTAMP. Anything else is a change of type, not a widening.
 */
const INTEGERS = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT'];
const DOUBLE = 'DOUBLE';

const isInteger = (type: string) => INTEGERS.includes(type);
const isNumber = (type: string) => isInteger(type) || type === 'FLOAT' || type === DOUBLE || /^DECIMAL\(/.test(type);

/**
 * The narrowest type both `a` and `b` widen to (one of them, or DOUBLE for
 * two numbers of different kinds), or undefined when there is none.
 */
export function commonType(a: string, b: string): string | undefined {
  if (a === b) return a;
  if (isInteger(a) && isInteger(b)) return INTEGERS[Math.max(INTEGERS.indexOf(a), INTEGERS.indexOf(b))];
  const decimals = [decimal(a), decimal(b)];
  if (decimals[0] && decimals[1]) return widerDecimal(decimals[0], decimals[1]);
  if (isNumber(a) && isNumber(b)) return DOUBLE;
  const pair = new Set([a, b]);
  if (pair.has('DATE') && pair.has('TIMESTAMP')) return 'TIMESTAMP';
  return undefined;
}

const decimal = (type: string) => {
  const match = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
  return match ? { precision: Number(match[1]), scale: Number(match[2]) } : undefined;
};

/** Two decimals meet at the one with the most digits on each side of the point (DOUBLE beyond 38 digits). */
function widerDecimal(a: { precision: number; scale: number }, b: { precision: number; scale: number }): string {
  const scale = Math.max(a.scale, b.scale);
  const precision = Math.max(a.precision - a.scale, b.precision - b.scale) + scale;
  return precision <= 38 ? `DECIMAL(${precision},${scale})` : DOUBLE;
}

/** Text that may hold values of any type: read under a typed schema only if every value casts. */
export const TEXT = 'VARCHAR';
