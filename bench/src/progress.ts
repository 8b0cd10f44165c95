import { dim } from '@lakehouse/app/local/terminal';

/** Progress notes while the bench runs (dim, so the result tables stand out). */
export const progress = (text: string) => process.stdout.write(dim(text));
export const progressLine = (text = '') => progress(`${text}\n`);
