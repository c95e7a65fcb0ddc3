import { describe, expect, it } from 'vitest';
import { GLOBEX, PASSWORD } from './fixtures/tenants.js';
import { useScenario } from './support/scenario.js';
import { TicketsView } from './support/ticketsView.js';
import { UI_LIMIT_MS } from './support/workbench.js';

const INVOICES = 'Invoices are rounded down';

// The tests run in order, as one user's session.
describe("a tenant's own workflow (globex's triage workflow), signed in as Dana", () => {
  const scenario = useScenario({
    name: 'tenant-workflow',
    provisioning: GLOBEX.provisioning,
    files: GLOBEX.files,
    tenant: GLOBEX.tenant,
  });
  const view = (): TicketsView => new TicketsView(scenario.workbench);

  it('signs in from the command palette', async () => {
    const workbench = scenario.workbench;
    await view().open();
    await workbench.runCommand('Tickets: Sign In');
    await view().answerSignIn(GLOBEX.dana.email, PASSWORD);
    expect(await workbench.notification(`Signed in to globex as ${GLOBEX.dana.email}`)).toBe(
      'info',
    );
    await view().expectCounts({ Open: 2, Reopened: 0, Resolved: 0, Closed: 0 });
  });

  it("builds the context menu from the workflow's actions, not the default ones", async () => {
    const workbench = scenario.workbench;
    const menu = await workbench.openContextMenu(await view().ticketRow(INVOICES));
    // The triage workflow has no closing of an open ticket; its escalation runs via Run Action….
    expect(menu).toEqual(expect.arrayContaining(['Resolve', 'Run Action…']));
    expect(menu).not.toContain('Close');
    await workbench.screenshot('context-menu');
    await workbench.page.keyboard.press('Escape');
  });

  it("runs the workflow's own action via Tickets: Run Action…", async () => {
    const workbench = scenario.workbench;
    await workbench.runCommand('Tickets: Run Action…');
    await workbench.pick('ticket1.globex ');
    // The tenant's workflow decides what is offered: its own escalation, and no Close.
    await expect
      .poll(async () => (await workbench.pickRows()).map((choice) => choice.label).sort(), {
        timeout: UI_LIMIT_MS,
        interval: 250,
      })
      .toEqual(['Escalate to on-call', 'Resolve']);
    await workbench.screenshot('workflow-actions');

    await workbench.pick('Escalate to on-call');
    const comment = 'Customers are being billed wrong; paging on-call';
    await workbench.answerInput(/^Escalate to on-call/, comment);

    expect(await workbench.notification('ticket1.globex is now REOPEN')).toBe('info');
    await view().expectCounts({ Open: 1, Reopened: 1, Resolved: 0, Closed: 0 });
    await view().expectTicketIn(INVOICES, 'Reopened');
    await workbench.screenshot('escalated');

    const dana = await scenario.rest(GLOBEX.dana.email, PASSWORD);
    expect((await dana.history('ticket1.globex')).at(-1)).toMatchObject({
      Action: 'ticket.action.escalate',
      From: 'OPEN',
      To: 'REOPEN',
      Comments: [comment],
      UserID: GLOBEX.dana.id,
    });
  });
});
