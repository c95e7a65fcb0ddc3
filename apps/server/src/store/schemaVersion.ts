/**
 * A database migrated by a newer server than this one: its tables may hold what this code
 * cannot read or must not write (a column it does not fill, a constraint it does not know), so
 * the store refuses to open it rather than serve on a guess.
 */
export class SchemaTooNewError extends Error {
  constructor(
    readonly applied: number,
    readonly known: number,
  ) {
    super(
      `the database's schema is at migration ${applied}, newer than this server knows (up to ${known}): ` +
        'run the newer tickets-server that migrated it, or restore the backup taken before it did',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** Throws SchemaTooNewError when `applied` holds a version past the last of `migrations`. */
export function assertSchemaKnown(
  applied: Iterable<number>,
  migrations: readonly { readonly version: number }[],
): void {
  const known = Math.max(0, ...migrations.map((migration) => migration.version));
  const newest = Math.max(0, ...applied);
  if (newest > known) throw new SchemaTooNewError(newest, known);
}
