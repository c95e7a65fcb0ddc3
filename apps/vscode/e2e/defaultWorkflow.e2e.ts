import { describe, expect, it } from 'vitest';
import { ACME, PASSWORD } from './fixtures/tenants.js';
import { useScenario } from './support/scenario.js';
import { TicketsView } from './support/ticketsView.js';
import { exactly, UI_LIMIT_MS, type Workbench } from './support/workbench.js';

const REFUNDS = 'Refunds fail with a 500 over 1000';
const WEBHOOKS = 'Webhook retries never stop';
const CHECKOUT_BUTTON = 'Checkout button hidden on small screens';
const RESOLVE_COMMENT = 'Fixed in 2.4.1: amounts are decimals now';

/** Waits until the status bar shows the number of open tickets on the user's resources. */
async function expectStatusBar(workbench: Workbench, text: string): Promise<void> {
  await expect
    .poll(() => workbench.statusBarTexts(), { timeout: UI_LIMIT_MS, interval: 250 })
    .toContain(text);
}

// The tests run in order, as one user's session: each starts where the one before it ended.
describe('the Tickets view on the default workflow, signed in as Ada (admin of the Payments API)', () => {
  const scenario = useScenario({
    name: 'default-workflow',
    provisioning: ACME.provisioning,
    tenant: ACME.tenant,
    // Polling an hour apart: a change made by someone else can only show through the live feed.
    settings: { 'tickets.pollIntervalSeconds': 3600 },
    workspaceFiles: { 'follow-ups.md': '# Follow-ups\n\nticket4.acme\n' },
  });
  const view = (): TicketsView => new TicketsView(scenario.workbench);

  it('signs in through the welcome view: e-mail, then a masked password; a refusal asks again', async () => {
    const workbench = scenario.workbench;
    const signIn = await view().welcomeButton('Sign In');
    await signIn.waitFor();
    await workbench.screenshot('signed-out');

    // A wrong password: the server's reason, then the prompts again, the e-mail remembered.
    const wrong = 'not-her-password';
    const reason = await scenario.loginRefusal(ACME.ada.email, wrong);
    await signIn.click();
    await view().answerSignIn(ACME.ada.email, wrong);
    expect(await workbench.notification(reason)).toBe('error');
    await workbench.screenshot('sign-in-refused');

    const again = await view().answerSignIn(ACME.ada.email, PASSWORD);
    expect(again).toEqual({ emailPrefilled: ACME.ada.email, passwordMasked: true });
    expect(await workbench.notification(`Signed in to acme as ${ACME.ada.email}`)).toBe('info');
    await workbench.screenshot('signed-in');
  });

  it('shows the tickets grouped by state, with counts, IDs, resources and descriptions', async () => {
    await view().expectCounts({ Open: 3, Reopened: 1, Resolved: 1, Closed: 1 });
    const byGroup = await view().ticketsByGroup();
    expect([...(byGroup['Open'] ?? [])].sort()).toEqual([CHECKOUT_BUTTON, REFUNDS, WEBHOOKS]);
    expect(byGroup['Reopened']).toEqual(['Checkout times out on slow networks']);
    expect(byGroup['Resolved']).toEqual(['Sandbox keys expire after an hour']);
    expect(byGroup['Closed']).toEqual(['Typo in the currency list']);
    const refunds = (await view().rows()).find((row) => row.label === REFUNDS);
    expect(refunds?.description).toMatch(/^ticket1\.acme · .+ · .+$/);

    // The tooltip carries the ticket's description.
    await (await view().ticketRow(REFUNDS)).hover();
    await scenario.workbench.page
      .locator('.monaco-hover', {
        hasText: 'POST /refunds answers 500 when the amount is over 1000.00.',
      })
      .waitFor();
    await scenario.workbench.screenshot('tree');
    // Open tickets on the resources Ada administers: ticket1 and ticket2 (Payments API).
    await expectStatusBar(scenario.workbench, '2 open');
  });

  it('resolves a ticket with a comment from its context menu; the history has the comment', async () => {
    const workbench = scenario.workbench;
    await workbench.clearNotifications();
    const menu = await workbench.openContextMenu(await view().ticketRow(REFUNDS));
    expect(menu).toEqual(expect.arrayContaining(['Resolve', 'Close', 'Run Action…']));
    expect(menu).not.toContain('Reopen');
    await workbench.screenshot('context-menu');

    await workbench.chooseMenuItem('Resolve');
    await workbench.answerInput(/^Resolve/, RESOLVE_COMMENT);

    expect(await workbench.notification('ticket1.acme is now RESOLVED')).toBe('info');
    // The progress notification shown while it ran goes away.
    await workbench.toast(/^Resolve ticket1\.acme/).waitFor({ state: 'hidden' });
    await view().expectCounts({ Open: 2, Reopened: 1, Resolved: 2, Closed: 1 });
    await view().expectTicketIn(REFUNDS, 'Resolved');
    await expectStatusBar(workbench, '1 open');
    await workbench.screenshot('resolved');

    const ada = await scenario.rest(ACME.ada.email, PASSWORD);
    expect((await ada.history('ticket1.acme')).at(-1)).toMatchObject({
      Action: 'ticket.action.resolve',
      From: 'OPEN',
      To: 'RESOLVED',
      Comments: [RESOLVE_COMMENT],
      UserID: ACME.ada.id,
    });
  });

  it("opens a ticket's detail: its description and its history with the comment", async () => {
    const workbench = scenario.workbench;
    await (await view().ticketRow(REFUNDS)).click();
    await workbench.page
      .locator('.tabs-container .tab', { hasText: `ticket1.acme: ${REFUNDS}` })
      .waitFor();
    const detail = workbench.webview();
    await detail.locator('h1', { hasText: REFUNDS }).waitFor();
    await detail.getByText('POST /refunds answers 500 when the amount is over 1000.00.').waitFor();
    await detail.getByText(RESOLVE_COMMENT).waitFor();
    await workbench.screenshot('detail');
  });

  it('shows a change someone else made through REST, without a refresh', async () => {
    const bob = await scenario.rest(ACME.bob.email, PASSWORD);
    expect(await bob.act('ticket2.acme', 'ticket.action.close', 'Duplicate of a gateway bug')).toBe(
      'CLOSED',
    );

    await view().expectCounts({ Open: 1, Reopened: 1, Resolved: 2, Closed: 2 });
    await view().expectTicketIn(WEBHOOKS, 'Closed');
    await expectStatusBar(scenario.workbench, '0 open');
    await scenario.workbench.screenshot('changed-by-someone-else');
  });

  it("explains a refused action with the server's reason, and changes nothing", async () => {
    const workbench = scenario.workbench;
    // Ada administers the Payments API, not the Checkout app: she may not resolve its tickets.
    const ada = await scenario.rest(ACME.ada.email, PASSWORD);
    const resolve = (await ada.validActions('ticket3.acme')).find(
      (action) => action.Value === 'ticket.action.resolve',
    );
    expect(resolve?.Allowed).toBe(false);
    const reason = resolve?.Reason ?? '';
    expect(reason).not.toBe('');

    // The context menu offers only what the server allows her ...
    const menu = await workbench.openContextMenu(await view().ticketRow(CHECKOUT_BUTTON));
    expect(menu).not.toContain('Resolve');
    expect(menu).toContain('Run Action…');
    await workbench.page.keyboard.press('Escape');

    // ... and Run Action… lists the blocked ones with the server's reason.
    await workbench.runCommand('Tickets: Run Action…');
    await workbench.pick('ticket3.acme ');
    await expect
      .poll(() => workbench.pickRows(), { timeout: UI_LIMIT_MS, interval: 250 })
      .toContainEqual(
        expect.objectContaining({ label: 'Resolve', detail: expect.stringContaining(reason) }),
      );
    await workbench.screenshot('blocked-actions');

    await workbench.pick('Resolve');
    expect(await workbench.notification(reason)).toBe('error');
    await workbench.screenshot('refused');
    expect((await ada.ticket('ticket3.acme')).State).toBe('OPEN');
    expect((await view().ticketsByGroup())['Open']).toContain(CHECKOUT_BUTTON);
  });

  it('hovers a ticket ID written in a file: title, state and the actions open to the user', async () => {
    const workbench = scenario.workbench;
    const editor = await workbench.openFile('follow-ups.md');
    // The innermost span: the line's token that holds the ID.
    await editor
      .locator('.view-line span', { hasText: exactly('ticket4.acme') })
      .last()
      .hover();
    const hover = workbench.page.locator('.monaco-hover', {
      hasText: 'Sandbox keys expire after an hour',
    });
    await hover.waitFor();
    expect(await hover.textContent()).toMatch(
      /ticket4\.acme · Resolved · .*You may: Close, Reopen/s,
    );
    await workbench.screenshot('hover');
  });
});
