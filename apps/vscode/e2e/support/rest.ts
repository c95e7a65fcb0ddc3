/** A user of the REST API, as another person (or script) would use it beside the editor. */
export interface RestUser {
  /** Runs a workflow action; answers the new state (the endpoint's text/plain body). */
  act(ticketId: string, action: string, comment: string): Promise<string>;
  /** The ticket's history, oldest first. */
  history(ticketId: string): Promise<HistoryEntry[]>;
  /** The ticket as the server has it. */
  ticket(ticketId: string): Promise<{ TicketID: string; State: string; Title: string }>;
  /** The actions of the ticket's state, allowed or not for this user, and why not. */
  validActions(ticketId: string): Promise<ValidAction[]>;
}

export interface ValidAction {
  readonly Value: string;
  readonly Label: string;
  readonly Allowed: boolean;
  readonly Reason?: string;
}

export interface HistoryEntry {
  readonly Action: string;
  readonly From: string;
  readonly To: string;
  readonly Comments: readonly string[];
  readonly UserID: string;
}

function cookiesOf(response: Response): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const header of response.headers.getSetCookie()) {
    const pair = header.split(';', 1)[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return cookies;
}

async function ok(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

/** Tries `POST /api/login` with credentials that must be refused; answers the problem's detail. */
export async function restLoginRefusal(
  baseUrl: string,
  tenant: string,
  email: string,
  password: string,
): Promise<string> {
  const response = await fetch(`${baseUrl}/api/login?fedmemberid=${encodeURIComponent(tenant)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const problem = (await response.json()) as { detail?: unknown };
  if (response.ok || typeof problem.detail !== 'string') {
    throw new Error(`the login of ${email} was not refused with a reason: ${response.status}`);
  }
  return problem.detail;
}

/** Logs `email` in to `tenant` through `POST /api/login` and answers their REST session. */
export async function restLogin(
  baseUrl: string,
  tenant: string,
  email: string,
  password: string,
): Promise<RestUser> {
  const login = await ok(
    await fetch(`${baseUrl}/api/login?fedmemberid=${encodeURIComponent(tenant)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ email, password }),
    }),
    `login of ${email}`,
  );
  const cookies = cookiesOf(login);
  const token = cookies.get(`AtmoAuthToken_${tenant}`);
  const csrf = cookies.get(`Csrf-Token_${tenant}`);
  if (token === undefined || csrf === undefined)
    throw new Error(`login of ${email} set no session`);
  const headers = {
    Cookie: `AtmoAuthToken_${tenant}=${token}`,
    [`X-Csrf-Token_${tenant}`]: csrf,
  };
  const getJson = async <T>(path: string): Promise<T> =>
    (await (
      await ok(
        await fetch(`${baseUrl}${path}`, { headers: { ...headers, Accept: 'application/json' } }),
        `GET ${path}`,
      )
    ).json()) as T;
  return {
    act: async (ticketId, action, comment) =>
      (
        await ok(
          await fetch(`${baseUrl}/api/tickets/${encodeURIComponent(ticketId)}/actions`, {
            method: 'POST',
            headers: { ...headers, 'Content-Type': 'application/json', Accept: 'text/plain' },
            body: JSON.stringify({ ActionName: action, Comments: comment }),
          }),
          `${action} of ${ticketId}`,
        )
      ).text(),
    history: async (ticketId) =>
      (
        await getJson<{ History: HistoryEntry[] }>(
          `/api/tickets/${encodeURIComponent(ticketId)}/history`,
        )
      ).History,
    ticket: (ticketId) => getJson(`/api/tickets/${encodeURIComponent(ticketId)}`),
    validActions: async (ticketId) =>
      (
        await getJson<{ Action: ValidAction[] }>(
          `/api/tickets/${encodeURIComponent(ticketId)}/actions`,
        )
      ).Action,
  };
}
