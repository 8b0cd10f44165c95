/** A SQL string literal: table functions and COPY take file paths as constants, not parameters. */
export const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;
