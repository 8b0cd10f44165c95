/** `PickupAt`, `Pickup At`, `pickup-at (UTC)` -> `pickup_at`, `pickup_at_utc`. */
export function snakeCase(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Snake-case names, unique and never empty, in the same order. */
export function normaliseColumnNames(names: readonly string[]): string[] {
  const used = new Set<string>();
  return names.map((name, index) => {
    let base = snakeCase(name) || `column_${index + 1}`;
    if (/^[0-9]/.test(base)) base = `c_${base}`;
    let candidate = base;
    for (let n = 2; used.has(candidate); n++) candidate = `${base}_${n}`;
    used.add(candidate);
    return candidate;
  });
}
