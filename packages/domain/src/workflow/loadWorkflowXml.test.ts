/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Actor } from '../actor.js';
import { applyAction, availableActions, startTicket } from '../engine/transitions.js';
import type { Ticket } from '../ticket.js';
import { formatTicketId } from '../ticketId.js';
import { defaultTicketWorkflow } from './defaultWorkflow.js';
import type { WorkflowDefinition } from './definition.js';
import { loadWorkflowXml, type WorkflowXmlError } from './loadWorkflowXml.js';

const SHIPPED = readFileSync(
  new URL('../../workflows/default-ticket-workflow.xml', import.meta.url),
  'utf8',
);

function load(xml: string): WorkflowDefinition {
  const result = loadWorkflowXml(xml);
  if (!result.ok) throw new Error(`expected a definition, got ${JSON.stringify(result.error)}`);
  return result.value;
}

function problems(xml: string): WorkflowXmlError[] {
  const result = loadWorkflowXml(xml);
  if (result.ok) throw new Error('expected the definition to be refused');
  return result.error;
}

/** One-based line and column of the `occurrence`-th `snippet` in `xml`. */
function at(xml: string, snippet: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let seen = 0; seen < occurrence; seen += 1) {
    index = xml.indexOf(snippet, index + 1);
    if (index < 0) throw new Error(`"${snippet}" occurs fewer than ${occurrence} times`);
  }
  const before = xml.slice(0, index);
  return { line: before.split('\n').length, column: index - before.lastIndexOf('\n') };
}

/** Asserts the definition is refused with exactly one problem, matching `pattern`, at `snippet`. */
function expectOneProblem(xml: string, pattern: RegExp, snippet: string, occurrence = 1): void {
  expect(problems(xml)).toEqual([
    { message: expect.stringMatching(pattern), ...at(xml, snippet, occurrence) },
  ]);
}

/** A small valid workflow; the bad definitions below are variants of it. */
const VALID = `<?xml version="1.0" encoding="UTF-8"?>
<workflow name="mini">
  <initial-actions>
    <action id="1" name="@Create">
      <results><unconditional-result step="10" status="Open"/></results>
      <post-functions>
        <function type="updateTicketStatus"><arg name="status">OPEN</arg></function>
      </post-functions>
    </action>
  </initial-actions>
  <steps>
    <step id="10" name="Open">
      <actions>
        <action id="11" name="close">
          <restrict-to>
            <conditions type="OR">
              <condition type="isAuthor"/>
              <condition type="authorizeByAtmosphereRole"><arg name="role">Admin</arg></condition>
            </conditions>
          </restrict-to>
          <results><unconditional-result step="20" status="Closed"/></results>
          <post-functions>
            <function type="updateTicketStatus"><arg name="status">CLOSED</arg></function>
          </post-functions>
        </action>
      </actions>
    </step>
    <step id="20" name="Closed">
      <actions>
        <action id="21" name="reopen">
          <results><unconditional-result step="10"/></results>
        </action>
      </actions>
    </step>
  </steps>
</workflow>
`;

/** VALID with each `[from, to]` replaced (each `from` must occur). */
function variant(...replacements: [string, string][]): string {
  return replacements.reduce((xml, [from, to]) => {
    if (!xml.includes(from)) throw new Error(`"${from}" is not in the workflow`);
    return xml.replace(from, to);
  }, VALID);
}

describe('loadWorkflowXml: the shipped default', () => {
  it('workflows/default-ticket-workflow.xml is exactly defaultTicketWorkflow', () => {
    expect(load(SHIPPED)).toStrictEqual(defaultTicketWorkflow);
  });

  it('loads the small workflow the error tests start from', () => {
    const definition = load(VALID);
    expect(definition.name).toBe('mini');
    expect(definition.initialAction).toStrictEqual({
      id: 1,
      name: '@Create',
      label: '@Create',
      conditionalResults: [],
      unconditionalResult: { step: 10, status: 'Open', postFunctions: [] },
      postFunctions: [{ type: 'updateTicketStatus', status: 'OPEN' }],
    });
    expect(definition.steps[0]!.actions[0]!.restrictTo).toStrictEqual({
      kind: 'group',
      type: 'OR',
      conditions: [
        { kind: 'condition', type: 'isAuthor', negate: false },
        { kind: 'condition', type: 'authorizeByAtmosphereRole', role: 'Admin', negate: false },
      ],
    });
    expect(definition.steps[1]!.actions[0]).toStrictEqual({
      id: 21,
      name: 'reopen',
      label: 'reopen',
      conditionalResults: [],
      unconditionalResult: { step: 10, postFunctions: [] },
      postFunctions: [],
    });
  });
});

const CUSTOM = `<?xml version="1.0" encoding="UTF-8"?>
<!-- A triage workflow: tickets are taken by an admin who did not write them, or a site admin. -->
<os:workflow xmlns:os="urn:example:osworkflow" name="triage">
  <meta name="author">ops</meta>
  <initial-actions>
    <action id="1" name="@Create">
      <meta name="label"> Create </meta>
      <results>
        <unconditional-result step="10" status="New">
          <post-functions>
            <function type="updateTicketStatus"><arg name="status">OPEN</arg></function>
          </post-functions>
        </unconditional-result>
      </results>
    </action>
  </initial-actions>
  <steps>
    <step id="10" name="New">
      <actions>
        <action id="2" name="triage.take">
          <meta name="label">Take</meta>
          <restrict-to>
            <conditions type="OR">
              <conditions type="AND">
                <condition type="isResourceAdmin" negate="false"/>
                <condition type="authorizeByAtmosphereRole" negate="true">
                  <arg name="role">Author</arg>
                </condition>
              </conditions>
              <condition type="isSiteAdmin"/>
            </conditions>
          </restrict-to>
          <results>
            <result step="30" status="Done">
              <conditions><condition type="isSiteAdmin"/></conditions>
              <post-functions>
                <function type="updateTicketStatus"><arg name="status">CLOSED</arg></function>
              </post-functions>
            </result>
            <unconditional-result step="20" status="Working" old-status="New">
              <post-functions>
                <function type="updateTicketStatus"><arg name="status">RESOLVED</arg></function>
              </post-functions>
            </unconditional-result>
          </results>
        </action>
        <action id="3" name="triage.ping">
          <results><unconditional-result step="-1"/></results>
        </action>
      </actions>
    </step>
    <step id="20" name="Working">
      <actions>
        <action id="4" name="triage.done">
          <restrict-to>
            <conditions>
              <condition type="authorizeByAtmosphereRole"><arg name="role">SiteAdmin</arg></condition>
            </conditions>
          </restrict-to>
          <results><unconditional-result step="30"/></results>
          <post-functions>
            <function type="updateTicketStatus"><arg name="status">CLOSED</arg></function>
          </post-functions>
        </action>
      </actions>
    </step>
    <step id="30" name="Done"/>
  </steps>
</os:workflow>
`;

describe('loadWorkflowXml: a custom workflow', () => {
  const definition = load(CUSTOM);

  it('maps every part of the XML', () => {
    expect(definition).toStrictEqual({
      name: 'triage',
      initialAction: {
        id: 1,
        name: '@Create',
        label: 'Create',
        conditionalResults: [],
        unconditionalResult: {
          step: 10,
          status: 'New',
          postFunctions: [{ type: 'updateTicketStatus', status: 'OPEN' }],
        },
        postFunctions: [],
      },
      steps: [
        {
          id: 10,
          name: 'New',
          actions: [
            {
              id: 2,
              name: 'triage.take',
              label: 'Take',
              restrictTo: {
                kind: 'group',
                type: 'OR',
                conditions: [
                  {
                    kind: 'group',
                    type: 'AND',
                    conditions: [
                      { kind: 'condition', type: 'isResourceAdmin', negate: false },
                      {
                        kind: 'condition',
                        type: 'authorizeByAtmosphereRole',
                        role: 'Author',
                        negate: true,
                      },
                    ],
                  },
                  { kind: 'condition', type: 'isSiteAdmin', negate: false },
                ],
              },
              conditionalResults: [
                {
                  step: 30,
                  status: 'Done',
                  postFunctions: [{ type: 'updateTicketStatus', status: 'CLOSED' }],
                  conditions: {
                    kind: 'group',
                    type: 'AND',
                    conditions: [{ kind: 'condition', type: 'isSiteAdmin', negate: false }],
                  },
                },
              ],
              unconditionalResult: {
                step: 20,
                status: 'Working',
                oldStatus: 'New',
                postFunctions: [{ type: 'updateTicketStatus', status: 'RESOLVED' }],
              },
              postFunctions: [],
            },
            {
              id: 3,
              name: 'triage.ping',
              label: 'triage.ping',
              conditionalResults: [],
              unconditionalResult: { step: -1, postFunctions: [] },
              postFunctions: [],
            },
          ],
        },
        {
          id: 20,
          name: 'Working',
          actions: [
            {
              id: 4,
              name: 'triage.done',
              label: 'triage.done',
              restrictTo: {
                kind: 'group',
                type: 'AND',
                conditions: [
                  {
                    kind: 'condition',
                    type: 'authorizeByAtmosphereRole',
                    role: 'SiteAdmin',
                    negate: false,
                  },
                ],
              },
              conditionalResults: [],
              unconditionalResult: { step: 30, postFunctions: [] },
              postFunctions: [{ type: 'updateTicketStatus', status: 'CLOSED' }],
            },
          ],
        },
        { id: 30, name: 'Done', actions: [] },
      ],
    });
    expect('restrictTo' in definition.steps[0]!.actions[1]!).toBe(false);
  });

  const tenant = 'acme';
  const now = new Date('2025-01-02T03:04:05.000Z');
  const ticket: Ticket = startTicket(
    definition,
    {
      id: formatTicketId('ticket1', tenant),
      tenant,
      title: 'Broken',
      description: 'It is broken',
      environment: 'Production',
      apiId: 'api1.acme',
      labels: [],
      tags: [],
      authorId: 'alice',
    },
    now,
  );
  const actor = (userId: string, roles: Partial<Actor> = {}): Actor => ({
    userId,
    tenant,
    siteAdmin: false,
    adminOf: [],
    ...roles,
  });
  const apiAdmin = actor('bob', { adminOf: ['api1.acme'] });
  const authorWhoIsAdmin = actor('alice', { adminOf: ['api1.acme'] });
  const siteAdmin = actor('carol', { siteAdmin: true });
  const take = (who: Actor) =>
    applyAction(definition, ticket, { actionName: 'triage.take', comments: [] }, who, now);

  it('starts tickets with the result post-function of the initial action', () => {
    expect(ticket).toMatchObject({ step: 10, state: 'OPEN', version: 1 });
  });

  it('negate and nested groups decide who may act', () => {
    expect(availableActions(definition, ticket, apiAdmin)).toEqual([
      { name: 'triage.take', label: 'Take', allowed: true },
      { name: 'triage.ping', label: 'triage.ping', allowed: true },
    ]);
    const [forAuthor] = availableActions(definition, ticket, authorWhoIsAdmin);
    expect(forAuthor).toMatchObject({ name: 'triage.take', allowed: false });
    expect(forAuthor!.reason).toMatch(/not the ticket's author/);
    expect(take(authorWhoIsAdmin)).toMatchObject({ ok: false, error: { code: 'NOT_ALLOWED' } });
  });

  it('the unconditional result applies when no conditional result holds', () => {
    expect(take(apiAdmin)).toMatchObject({
      ok: true,
      value: { from: 'OPEN', to: 'RESOLVED', fromStep: 10, toStep: 20 },
    });
  });

  it('the first conditional result that holds wins, with its own post-functions', () => {
    expect(take(siteAdmin)).toMatchObject({
      ok: true,
      value: { from: 'OPEN', to: 'CLOSED', fromStep: 10, toStep: 30 },
    });
  });

  it('step -1 stays on the current step and keeps the state without a post-function', () => {
    const pinged = applyAction(
      definition,
      ticket,
      { actionName: 'triage.ping', comments: ['still there?'] },
      actor('dave'),
      now,
    );
    expect(pinged).toMatchObject({
      ok: true,
      value: { from: 'OPEN', to: 'OPEN', fromStep: 10, toStep: 10, ticket: { version: 2 } },
    });
  });

  it('a step without actions is final', () => {
    expect(availableActions(definition, { ...ticket, step: 30 }, siteAdmin)).toEqual([]);
  });
});

describe('loadWorkflowXml: bad definitions, each reported at the element at fault', () => {
  it('the root is not <workflow>', () => {
    const xml = VALID.replace('<workflow name="mini">', '<flow name="mini">').replace(
      '</workflow>',
      '</flow>',
    );
    expectOneProblem(xml, /root element must be <workflow>, not <flow>/, '<flow');
  });

  it('the workflow has no name, or a blank one', () => {
    expectOneProblem(
      variant(['<workflow name="mini">', '<workflow>']),
      /<workflow> needs a "name"/,
      '<workflow',
    );
    expectOneProblem(
      variant(['<workflow name="mini">', '<workflow name="  ">']),
      /<workflow> needs a "name"/,
      '<workflow',
    );
  });

  it('the workflow has two names', () => {
    const twice = variant(['<workflow name="mini">', '<workflow name="mini" name="maxi">']);
    expect(problems(twice)).toEqual([
      {
        message: expect.stringMatching(/malformed XML: duplicate attribute: name/),
        line: 2,
        column: 34,
      },
    ]);
    // With a prefix, the two would be one attribute once prefixes are dropped.
    const prefixed = variant([
      '<workflow name="mini">',
      '<workflow xmlns:x="urn:x" name="mini" x:name="maxi">',
    ]);
    expectOneProblem(prefixed, /malformed XML: duplicate attribute: name/, '<workflow');
  });

  it('there is not exactly one initial action', () => {
    const none = variant([
      VALID.slice(VALID.indexOf('<initial-actions>'), VALID.indexOf('</initial-actions>')),
      '<initial-actions>\n  ',
    ]);
    expectOneProblem(none, /exactly one initial action.*found 0/, '<initial-actions>');

    const missing = none.replace('<initial-actions>\n  </initial-actions>', '');
    expectOneProblem(missing, /exactly one initial action.*found 0/, '<workflow');

    const two = variant([
      '</initial-actions>',
      `  <action id="2" name="@Create2">
      <results><unconditional-result step="10"/></results>
    </action>
  </initial-actions>`,
    ]);
    expectOneProblem(two, /exactly one initial action.*found 2/, '<initial-actions>');
  });

  it('there are no steps', () => {
    const empty = variant([
      VALID.slice(VALID.indexOf('<steps>'), VALID.indexOf('</steps>') + '</steps>'.length),
      '<steps/>',
    ]);
    // The initial action now leads nowhere, too.
    expect(problems(empty)).toEqual([
      {
        message: expect.stringMatching(/step 10, which does not exist/),
        ...at(empty, '<unconditional-result'),
      },
      { message: expect.stringMatching(/the workflow has no steps/), ...at(empty, '<steps/>') },
    ]);
    const missing = empty.replace('<steps/>', '');
    expect(problems(missing)).toContainEqual({
      message: expect.stringMatching(/the workflow has no steps/),
      ...at(missing, '<workflow'),
    });
  });

  it.each(['one', '1.5', '-2', ' 20', ''])(
    'a step id is not a non-negative integer: "%s"',
    (id) => {
      const xml = variant(
        ['<step id="20" name="Closed">', `<step id="${id}" name="Closed">`],
        ['<unconditional-result step="20" status="Closed"/>', '<unconditional-result step="10"/>'],
      );
      expectOneProblem(
        xml,
        new RegExp(`"id" must be a non-negative integer, not "${id}"`),
        '<step id="',
        2,
      );
    },
  );

  it('a step has no id', () => {
    const xml = variant(
      ['<step id="20" name="Closed">', '<step name="Closed">'],
      ['<unconditional-result step="20" status="Closed"/>', '<unconditional-result step="10"/>'],
    );
    expectOneProblem(xml, /a <step> needs an "id"/, '<step name="Closed">');
  });

  it('a step has no name', () => {
    expectOneProblem(
      variant(['<step id="20" name="Closed">', '<step id="20">']),
      /step 20 needs a "name"/,
      '<step id="20">',
    );
  });

  it('two steps have the same id', () => {
    const xml = variant(['<step id="20" name="Closed">', '<step id="10" name="Closed">']);
    const errors = problems(xml);
    expect(errors).toContainEqual({
      message: expect.stringMatching(/duplicate step id 10 \(first on line 12\)/),
      ...at(xml, '<step id="10" name="Closed">'),
    });
  });

  it('two actions have the same id, in different steps', () => {
    expectOneProblem(
      variant(['<action id="21" name="reopen">', '<action id="11" name="reopen">']),
      /duplicate action id 11 \(first on line 14\)/,
      '<action id="11" name="reopen">',
    );
  });

  it('a step action has the id of the initial action', () => {
    expectOneProblem(
      variant(['<action id="21" name="reopen">', '<action id="1" name="reopen">']),
      /duplicate action id 1 \(first on line 4\)/,
      '<action id="1" name="reopen">',
    );
  });

  it('an action id is missing or not an integer', () => {
    expectOneProblem(
      variant(['<action id="21" name="reopen">', '<action name="reopen">']),
      /an <action> needs an "id"/,
      '<action name="reopen">',
    );
    expectOneProblem(
      variant(['<action id="21" name="reopen">', '<action id="x21" name="reopen">']),
      /"id" must be a non-negative integer, not "x21"/,
      '<action id="x21"',
    );
  });

  it('an action has no name', () => {
    expectOneProblem(
      variant(['<action id="21" name="reopen">', '<action id="21">']),
      /action 21 needs a "name"/,
      '<action id="21">',
    );
  });

  it('an action name appears twice in one step', () => {
    const xml = variant([
      '      </actions>\n    </step>\n    <step id="20"',
      `        <action id="12" name="close">
          <results><unconditional-result step="20"/></results>
        </action>
      </actions>
    </step>
    <step id="20"`,
    ]);
    expectOneProblem(
      xml,
      /step 10 "Open" has two actions named "close" \(first on line 14\)/,
      '<action id="12"',
    );
  });

  it('an action has no <unconditional-result>', () => {
    const xml = variant([
      '<results><unconditional-result step="10"/></results>',
      '<results><result step="10"><conditions><condition type="isAuthor"/></conditions></result></results>',
    ]);
    expectOneProblem(xml, /action 21 "reopen" has no <unconditional-result>/, '<results><result');
  });

  it('an action has no <results> at all', () => {
    expectOneProblem(
      variant(['<results><unconditional-result step="10"/></results>', '']),
      /action 21 "reopen" has no <results>/,
      '<action id="21"',
    );
  });

  it('an action has two unconditional results', () => {
    const xml = variant([
      '<results><unconditional-result step="10"/></results>',
      '<results><unconditional-result step="10"/><unconditional-result step="20"/></results>',
    ]);
    expectOneProblem(
      xml,
      /action 21 "reopen" has more than one <unconditional-result>/,
      '<unconditional-result step="20"/></results>',
    );
  });

  it('a conditional result has no conditions', () => {
    const xml = variant([
      '<results><unconditional-result step="10"/></results>',
      '<results><result step="20"/><unconditional-result step="10"/></results>',
    ]);
    expectOneProblem(
      xml,
      /a conditional <result> of action 21 "reopen" needs a <conditions> group/,
      '<result step="20"/>',
    );
  });

  it('a result leads to a step that does not exist', () => {
    expectOneProblem(
      variant([
        '<unconditional-result step="20" status="Closed"/>',
        '<unconditional-result step="99"/>',
      ]),
      /leads to step 99, which does not exist/,
      '<unconditional-result step="99"/>',
    );
    expectOneProblem(
      variant([
        '<unconditional-result step="10" status="Open"/>',
        '<unconditional-result step="-7"/>',
      ]),
      /leads to step -7, which does not exist/,
      '<unconditional-result step="-7"/>',
    );
  });

  it('the initial action stays (step -1)', () => {
    expectOneProblem(
      variant([
        '<unconditional-result step="10" status="Open"/>',
        '<unconditional-result step="-1"/>',
      ]),
      /initial action cannot stay on a step \(step "-1"\)/,
      '<unconditional-result step="-1"/>',
    );
  });

  it('a result step is missing or not an integer', () => {
    expectOneProblem(
      variant(['<unconditional-result step="10"/>', '<unconditional-result/>']),
      /<unconditional-result> of action 21 "reopen" needs a "step"/,
      '<unconditional-result/>',
    );
    expectOneProblem(
      variant(['<unconditional-result step="10"/>', '<unconditional-result step="open"/>']),
      /"step" must be an integer, not "open"/,
      '<unconditional-result step="open"/>',
    );
  });

  it('a condition has an unknown type, or none', () => {
    expectOneProblem(
      variant(['<condition type="isAuthor"/>', '<condition type="isOwner"/>']),
      /unknown condition type "isOwner"; known types: "isResourceAdmin", "isSiteAdmin", "isAuthor", "authorizeByAtmosphereRole"/,
      '<condition type="isOwner"/>',
    );
    expectOneProblem(
      variant(['<condition type="isAuthor"/>', '<condition/>']),
      /unknown condition type ""/,
      '<condition/>',
    );
  });

  it('authorizeByAtmosphereRole has no role', () => {
    expectOneProblem(
      variant(['<arg name="role">Admin</arg>', '']),
      /authorizeByAtmosphereRole needs an <arg name="role"> \(one of "Admin", "SiteAdmin", "Author"\)/,
      '<condition type="authorizeByAtmosphereRole"',
    );
  });

  it('authorizeByAtmosphereRole has an unknown role', () => {
    expectOneProblem(
      variant(['<arg name="role">Admin</arg>', '<arg name="role">admin</arg>']),
      /unknown role "admin" for authorizeByAtmosphereRole/,
      '<arg name="role">',
    );
  });

  it('a <conditions> type is neither AND nor OR', () => {
    expectOneProblem(
      variant(['<conditions type="OR">', '<conditions type="XOR">']),
      /<conditions> type must be "AND" or "OR", not "XOR"/,
      '<conditions type="XOR">',
    );
    expectOneProblem(
      variant(['<conditions type="OR">', '<conditions type="or">']),
      /not "or"/,
      '<conditions type="or">',
    );
  });

  it('negate is neither true nor false', () => {
    expectOneProblem(
      variant(['<condition type="isAuthor"/>', '<condition type="isAuthor" negate="yes"/>']),
      /"negate" must be "true" or "false", not "yes"/,
      '<condition type="isAuthor"',
    );
  });

  it('a function has an unknown type', () => {
    expectOneProblem(
      variant([
        '<function type="updateTicketStatus"><arg name="status">CLOSED',
        '<function type="sendMail"><arg name="status">CLOSED',
      ]),
      /unknown function type "sendMail"; known types: "updateTicketStatus"/,
      '<function type="sendMail"',
    );
  });

  it('updateTicketStatus has no status', () => {
    expectOneProblem(
      variant(['<arg name="status">CLOSED</arg>', '']),
      /updateTicketStatus needs an <arg name="status"> \(one of "OPEN", "RESOLVED", "CLOSED", "REOPEN"\)/,
      '<function type="updateTicketStatus"></function>',
    );
  });

  it('updateTicketStatus has a status that is not a ticket state', () => {
    expectOneProblem(
      variant(['<arg name="status">CLOSED</arg>', '<arg name="status">Closed</arg>']),
      /updateTicketStatus: unknown status "Closed"/,
      '<arg name="status">Closed',
    );
  });

  it.each([
    ['splits', '<splits><split id="1"/></splits>', '</steps>', 'after'],
    ['joins', '<joins><join id="1"/></joins>', '</steps>', 'after'],
    ['global-actions', '<global-actions/>', '<steps>', 'before'],
    ['common-actions', '<common-actions/>', '<steps>', 'before'],
    ['pre-functions', '<pre-functions/>', '<results><unconditional-result step="10"/>', 'before'],
    ['validators', '<validators/>', '<results><unconditional-result step="10"/>', 'before'],
  ])('<%s> is reported as not supported', (name, element, anchor, where) => {
    const xml = variant([
      anchor,
      where === 'before' ? `${element}${anchor}` : `${anchor}${element}`,
    ]);
    expectOneProblem(xml, new RegExp(`<${name}> is not supported`), element);
  });

  it('the XML is malformed', () => {
    const xml = variant(['<step id="20" name="Closed">', '<step id="20" name="Closed"']);
    // saxes stops at the `<` of <actions>, where the start tag should have been closed.
    expect(problems(xml)).toEqual([
      {
        message: 'malformed XML: disallowed character in attribute name.',
        ...at(xml, '<actions>', 2),
      },
    ]);
    expect(problems('')).toEqual([
      { message: 'malformed XML: document must contain a root element.', line: 1, column: 1 },
    ]);
  });

  it('a DOCTYPE is refused, so entities cannot be declared', () => {
    const xml = VALID.replace(
      '<workflow name="mini">',
      '<!DOCTYPE workflow [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<workflow name="&xxe;">',
    );
    expect(problems(xml)).toEqual([
      { message: 'malformed XML: a DOCTYPE is not allowed', line: 2, column: 63 },
    ]);
  });

  it('an entity reference is refused', () => {
    const xml = variant(['<workflow name="mini">', '<workflow name="&xxe;">']);
    expect(problems(xml)).toEqual([
      { message: 'malformed XML: undefined entity.', line: 2, column: 21 },
    ]);
  });
});

describe('loadWorkflowXml: further checks', () => {
  it('reports every problem, in document order', () => {
    const xml = variant(
      ['<workflow name="mini">', '<workflow>'],
      ['<condition type="isAuthor"/>', '<condition type="isAuthor" negate="no"/>'],
      ['<step id="20" name="Closed">', '<step id="20" name="Closed"><pre-functions/>'],
      ['<unconditional-result step="10"/>', '<unconditional-result step="11"/>'],
    );
    expect(problems(xml).map((error) => error.message)).toEqual([
      expect.stringMatching(/<workflow> needs a "name"/),
      expect.stringMatching(/"negate" must be/),
      expect.stringMatching(/<pre-functions> is not supported/),
      expect.stringMatching(/step 11, which does not exist/),
    ]);
  });

  it('an unexpected element is reported, so a typo does not drop a part silently', () => {
    const xml = variant(
      [
        '<post-functions>\n            <function type="updateTicketStatus"><arg name="status">CLOSED',
        '<post-function>\n            <function type="updateTicketStatus"><arg name="status">CLOSED',
      ],
      [
        '</post-functions>\n        </action>\n      </actions>\n    </step>\n    <step id="20"',
        '</post-function>\n        </action>\n      </actions>\n    </step>\n    <step id="20"',
      ],
    );
    expectOneProblem(
      xml,
      /unexpected element <post-function> in <action>; expected <meta>, <restrict-to>, <results>, <post-functions>/,
      '<post-function>',
    );
  });

  it('the initial action may not be restricted or have conditional results', () => {
    const xml = variant([
      '<results><unconditional-result step="10" status="Open"/></results>',
      `<restrict-to><conditions><condition type="isSiteAdmin"/></conditions></restrict-to>
      <results>
        <result step="20"><conditions><condition type="isAuthor"/></conditions></result>
        <unconditional-result step="10" status="Open"/>
      </results>`,
    ]);
    expect(problems(xml)).toEqual([
      {
        message: expect.stringMatching(/initial action cannot have <restrict-to>/),
        ...at(xml, '<restrict-to>'),
      },
      {
        message: expect.stringMatching(/initial action cannot have conditional results/),
        ...at(xml, '<result step="20">'),
      },
    ]);
  });

  it('a <restrict-to> needs one <conditions> group, which needs members', () => {
    expectOneProblem(
      variant([
        VALID.slice(VALID.indexOf('<restrict-to>'), VALID.indexOf('</restrict-to>')),
        '<restrict-to>',
      ]),
      /the <restrict-to> of action 11 "close" needs a <conditions> group/,
      '<restrict-to>',
    );
    expectOneProblem(
      variant([
        '<restrict-to>',
        '<restrict-to><conditions><condition type="isAuthor"/></conditions>',
      ]),
      /<restrict-to> may hold only one <conditions>/,
      '<conditions type="OR">',
    );
    expectOneProblem(
      variant([
        '<restrict-to>',
        '<restrict-to><conditions><condition type="isAuthor"/></conditions></restrict-to><restrict-to>',
      ]),
      /<action> may hold only one <restrict-to>/,
      '<restrict-to>',
      2,
    );
    expectOneProblem(
      variant(['<condition type="isAuthor"/>', '<conditions type="AND"></conditions>']),
      /a <conditions> group needs at least one <condition> or <conditions>/,
      '<conditions type="AND">',
    );
  });

  it('an <arg> needs a name and may not repeat', () => {
    const unnamed = variant(['<arg name="role">Admin</arg>', '<arg>Admin</arg>']);
    expect(problems(unnamed)).toContainEqual({
      message: expect.stringMatching(
        /an <arg> of the condition "authorizeByAtmosphereRole" needs a "name"/,
      ),
      ...at(unnamed, '<arg>Admin'),
    });
    expectOneProblem(
      variant([
        '<arg name="role">Admin</arg>',
        '<arg name="role">Admin</arg><arg name="role">Author</arg>',
      ]),
      /the condition "authorizeByAtmosphereRole" has more than one "role" argument/,
      '<arg name="role">Author',
    );
  });

  it('a condition or function holds only <arg> elements', () => {
    expectOneProblem(
      variant([
        '<condition type="isAuthor"/>',
        '<condition type="isAuthor"><role>Admin</role></condition>',
      ]),
      /unexpected element <role> in <condition>; expected <arg>/,
      '<role>',
    );
  });

  it('a function without a type is reported as unknown', () => {
    expectOneProblem(
      variant([
        '<function type="updateTicketStatus"><arg name="status">CLOSED',
        '<function><arg name="status">CLOSED',
      ]),
      /unknown function type ""/,
      '<function><arg',
    );
  });

  it('a role condition with a bad negate reports the negate', () => {
    expectOneProblem(
      variant([
        '<condition type="authorizeByAtmosphereRole">',
        '<condition type="authorizeByAtmosphereRole" negate="1">',
      ]),
      /"negate" must be "true" or "false", not "1"/,
      '<condition type="authorizeByAtmosphereRole"',
    );
  });

  it('a result leading to a split or join is not supported', () => {
    expect(
      problems(variant(['<unconditional-result step="10"/>', '<unconditional-result split="1"/>'])),
    ).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/to a split are not supported/) }),
      expect.objectContaining({ message: expect.stringMatching(/needs a "step"/) }),
    ]);
  });
});
