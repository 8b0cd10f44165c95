/** The three zones of the lakehouse; each is one bucket. */
export const ZONES = ['raw', 'silver', 'gold'] as const;
export type Zone = (typeof ZONES)[number];
