/**
 * The client's own cookie jar: the two cookies of its tenant's session, `AtmoAuthToken_{tenant}`
 * and `Csrf-Token_{tenant}`, kept in memory, exactly as the server set them (URL-encoded).
 * Other cookies are ignored; a `Set-Cookie` that expires one (logout) removes it.
 */
export class CookieJar {
  private readonly values = new Map<string, string>();
  readonly authName: string;
  readonly csrfName: string;

  constructor(
    tenant: string,
    private readonly now: () => Date,
  ) {
    this.authName = `AtmoAuthToken_${tenant}`;
    this.csrfName = `Csrf-Token_${tenant}`;
  }

  /** The `Cookie` header to send; undefined when the jar is empty. */
  header(): string | undefined {
    if (this.values.size === 0) return undefined;
    return [...this.values].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** The session's auth cookie value, as sent. */
  get auth(): string | undefined {
    return this.values.get(this.authName);
  }

  /** The CSRF value, as sent in the cookie: what the `X-Csrf-Token_{tenant}` header carries. */
  get csrf(): string | undefined {
    return this.values.get(this.csrfName);
  }

  /** Keeps the session cookies an answer sets (`Set-Cookie`, read with `getSetCookie()`). */
  store(headers: { getSetCookie?: () => string[] }): void {
    for (const line of headers.getSetCookie?.() ?? []) this.storeOne(line);
  }

  clear(): void {
    this.values.clear();
  }

  private storeOne(line: string): void {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq).trim();
    if (name !== this.authName && name !== this.csrfName) return;
    const value = pair.slice(eq + 1).trim();
    if (this.expired(attributes)) this.values.delete(name);
    else this.values.set(name, value);
  }

  /** Whether `Max-Age` (which wins) or `Expires` says the cookie is already gone. */
  private expired(attributes: readonly string[]): boolean {
    const attribute = (wanted: string): string | undefined => {
      for (const item of attributes) {
        const eq = item.indexOf('=');
        const key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
        if (key === wanted) return eq < 0 ? '' : item.slice(eq + 1).trim();
      }
      return undefined;
    };
    const maxAge = attribute('max-age');
    if (maxAge !== undefined && /^-?\d+$/.test(maxAge)) return Number(maxAge) <= 0;
    const expires = attribute('expires');
    if (expires === undefined) return false;
    const at = Date.parse(expires);
    return Number.isFinite(at) && at <= this.now().getTime();
  }
}
