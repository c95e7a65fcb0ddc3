import { PASSWORD } from './fixtures.js';

/** A logged-in test user: the cookies and CSRF value a real client would hold. */
export interface Session {
  readonly tenant: string;
  readonly authCookie: string;
  readonly csrf: string;
  /** The `Cookie` header value. */
  readonly cookie: string;
}

/** Reads `name=value` of the Set-Cookie headers of a response. */
export function setCookies(response: { readonly headers: Headers }): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const eq = pair!.indexOf('=');
    cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
  }
  return cookies;
}

/** Logs in through the real endpoint. */
export async function login(
  url: string,
  email: string,
  password = PASSWORD,
  fedmemberid?: string,
): Promise<Session> {
  const response = await fetch(
    `${url}/api/login${fedmemberid ? `?fedmemberid=${fedmemberid}` : ''}`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ email, password }),
    },
  );
  if (response.status !== 200)
    throw new Error(`login of ${email} failed: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { fedmemberid: string };
  const cookies = setCookies(response);
  const tenant = body.fedmemberid;
  const authCookie = cookies.get(`AtmoAuthToken_${tenant}`)!;
  const csrf = cookies.get(`Csrf-Token_${tenant}`) ?? '';
  return { tenant, authCookie, csrf, cookie: `AtmoAuthToken_${tenant}=${authCookie}` };
}

export interface CallOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Leave out the CSRF header that is otherwise sent with the session. */
  readonly noCsrf?: boolean;
}

/** A request as a logged-in client sends it: the session cookie, and the CSRF header on writes. */
export function call(
  url: string,
  session: Session | undefined,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (session) {
    headers['Cookie'] = session.cookie;
    if (!options.noCsrf) headers[`X-Csrf-Token_${session.tenant}`] = session.csrf;
  }
  return fetch(`${url}${path}`, {
    method: options.method ?? 'GET',
    headers: { ...headers, ...options.headers },
    ...(options.body !== undefined && { body: options.body }),
  });
}

/** Runs an action as JSON and answers status and text. */
export async function act(
  url: string,
  session: Session,
  ticketId: string,
  actionName: string,
  extra: { comments?: string | string[]; headers?: Record<string, string>; query?: string } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await call(
    url,
    session,
    `/api/tickets/${ticketId}/actions${extra.query ?? ''}`,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...extra.headers },
      body: JSON.stringify({
        ActionName: actionName,
        ...(extra.comments !== undefined && { Comments: extra.comments }),
      }),
    },
  );
  return { status: response.status, text: await response.text(), headers: response.headers };
}
