import { describe, expect, it } from 'vitest';
import { ACME, PASSWORD } from './fixtures/tenants.js';
import { useScenario } from './support/scenario.js';
import { TicketsView } from './support/ticketsView.js';

// The tests run in order, as one user's session.
describe('a server that stops answering, and comes back', () => {
  const scenario = useScenario({
    name: 'unreachable',
    provisioning: ACME.provisioning,
    tenant: ACME.tenant,
    // While the live feed is down the view polls; the shortest interval the setting allows.
    settings: { 'tickets.pollIntervalSeconds': 5 },
  });
  const view = (): TicketsView => new TicketsView(scenario.workbench);

  it('says so, and offers Retry, while the server is down', async () => {
    const workbench = scenario.workbench;
    await view().open();
    await workbench.runCommand('Tickets: Sign In');
    await view().answerSignIn(ACME.ada.email, PASSWORD);
    await view().expectCounts({ Open: 3, Reopened: 1, Resolved: 1, Closed: 1 });

    await scenario.server.stop();
    await (await view().open()).getByText('The tickets server cannot be reached').waitFor();
    const retry = await view().welcomeButton('Retry');
    await retry.waitFor();
    expect(await view().rows()).toEqual([]);
    await workbench.screenshot('unreachable');
  });

  it('shows the tickets again once the server is back: on Retry, or at the next poll', async () => {
    const retry = await view().welcomeButton('Retry');
    // Retry while it is still down changes nothing: the same message, no tickets.
    await retry.click();
    await (await view().open()).getByText('The tickets server cannot be reached').waitFor();

    await scenario.server.restart();
    // The view may find the server again by itself (its next poll) before the click lands.
    await retry.click({ timeout: 5_000 }).catch(() => undefined);
    await view().expectCounts({ Open: 3, Reopened: 1, Resolved: 1, Closed: 1 });
    await scenario.workbench.screenshot('back');
  });
});
