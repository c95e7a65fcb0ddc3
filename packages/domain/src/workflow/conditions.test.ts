import { describe as suite, expect, it } from 'vitest';
import type { Actor } from '../actor.js';
import { ACTOR_KINDS, actors, ticketIn, type ActorKind } from '../test/fixtures.js';
import { describe, evaluate, guards, notAllowedReason } from './conditions.js';
import type { AtmosphereRole, Condition, ConditionGroup, ConditionNode } from './definition.js';

const is = (type: 'isResourceAdmin' | 'isSiteAdmin' | 'isAuthor', negate = false): Condition => ({
  kind: 'condition',
  type,
  negate,
});
const role = (name: AtmosphereRole, negate = false): Condition => ({
  kind: 'condition',
  type: 'authorizeByAtmosphereRole',
  role: name,
  negate,
});
const and = (...conditions: ConditionNode[]): ConditionGroup => ({
  kind: 'group',
  type: 'AND',
  conditions,
});
const or = (...conditions: ConditionNode[]): ConditionGroup => ({
  kind: 'group',
  type: 'OR',
  conditions,
});

const ticket = ticketIn('OPEN');
/** The kinds of actor for whom `node` holds on the fixture ticket (on both its API and app). */
const holdsFor = (node: ConditionNode): ActorKind[] =>
  ACTOR_KINDS.filter((kind) => evaluate(node, actors[kind], ticket));

suite('guards, by name', () => {
  // Which kinds of actor each guard lets through, on a ticket with both an APIID and an AppID.
  const EXPECTED: Record<keyof typeof guards, ActorKind[]> = {
    isResourceAdmin: ['apiAdmin', 'appAdmin'],
    isSiteAdmin: ['siteAdmin'],
    isAuthor: ['author'],
  };

  it.each(Object.entries(EXPECTED))('%s holds for %j', (name, kinds) => {
    const guard = guards[name as keyof typeof guards];
    expect(ACTOR_KINDS.filter((kind) => guard(actors[kind], ticket))).toEqual(kinds);
  });

  it('isResourceAdmin looks at every resource of the ticket, and only those', () => {
    const apiOnly = ticketIn('OPEN', { appId: undefined });
    const appOnly = ticketIn('OPEN', { apiId: undefined });
    const none = ticketIn('OPEN', { apiId: undefined, appId: '' });
    expect(guards.isResourceAdmin(actors.apiAdmin, apiOnly)).toBe(true);
    expect(guards.isResourceAdmin(actors.appAdmin, apiOnly)).toBe(false);
    expect(guards.isResourceAdmin(actors.appAdmin, appOnly)).toBe(true);
    expect(guards.isResourceAdmin(actors.apiAdmin, appOnly)).toBe(false);
    const adminOfEmpty: Actor = { ...actors.otherUser, adminOf: [''] };
    expect(guards.isResourceAdmin(adminOfEmpty, none)).toBe(false);
  });

  it('none of them holds across tenants, whatever the actor claims', () => {
    const impostor: Actor = {
      userId: ticket.authorId,
      tenant: 'globex',
      siteAdmin: true,
      adminOf: [ticket.apiId!, ticket.appId!],
    };
    expect(guards.isResourceAdmin(impostor, ticket)).toBe(false);
    expect(guards.isSiteAdmin(impostor, ticket)).toBe(false);
    expect(guards.isAuthor(impostor, ticket)).toBe(false);
  });
});

suite('evaluate', () => {
  it('evaluates single conditions and their negation', () => {
    expect(holdsFor(is('isAuthor'))).toEqual(['author']);
    expect(holdsFor(is('isAuthor', true))).toEqual(ACTOR_KINDS.filter((kind) => kind !== 'author'));
  });

  it('AND needs every condition, OR any', () => {
    const adminAndAuthor = and(is('isResourceAdmin'), is('isAuthor'));
    const adminOrAuthor = or(is('isResourceAdmin'), is('isAuthor'));
    expect(holdsFor(adminAndAuthor)).toEqual([]);
    expect(holdsFor(adminOrAuthor)).toEqual(['apiAdmin', 'appAdmin', 'author']);
    const authorAlsoAdmin: Actor = { ...actors.author, adminOf: [ticket.apiId!] };
    expect(evaluate(adminAndAuthor, authorAlsoAdmin, ticket)).toBe(true);
  });

  it('an empty AND holds, an empty OR does not', () => {
    expect(holdsFor(and())).toEqual([...ACTOR_KINDS]);
    expect(holdsFor(or())).toEqual([]);
  });

  it('nests groups', () => {
    // (resource admin and not site admin) or (site admin and not author)
    const node = or(
      and(is('isResourceAdmin'), is('isSiteAdmin', true)),
      and(is('isSiteAdmin'), is('isAuthor', true)),
    );
    expect(holdsFor(node)).toEqual(['apiAdmin', 'appAdmin', 'siteAdmin']);
    // not author and not resource admin
    expect(holdsFor(and(is('isAuthor', true), or(is('isResourceAdmin', true))))).toEqual([
      'siteAdmin',
      'otherUser',
      'foreignUser',
    ]);
  });

  it('authorizeByAtmosphereRole understands Admin, SiteAdmin and Author', () => {
    const EXPECTED: Record<AtmosphereRole, ActorKind[]> = {
      Admin: ['apiAdmin', 'appAdmin', 'siteAdmin'],
      SiteAdmin: ['siteAdmin'],
      Author: ['author'],
    };
    for (const [name, kinds] of Object.entries(EXPECTED)) {
      expect(holdsFor(role(name as AtmosphereRole)), name).toEqual(kinds);
      expect(holdsFor(role(name as AtmosphereRole, true)), `not ${name}`).toEqual(
        ACTOR_KINDS.filter((kind) => !kinds.includes(kind)),
      );
    }
  });
});

suite('describe and notAllowedReason', () => {
  it('names each guard and role in words', () => {
    expect(describe(is('isResourceAdmin'))).toBe("an admin of the ticket's API or app");
    expect(describe(is('isSiteAdmin'))).toBe('a site admin');
    expect(describe(is('isAuthor'))).toBe("the ticket's author");
    expect(describe(role('Admin'))).toBe("an admin of the ticket's API or app, or a site admin");
    expect(describe(role('SiteAdmin'))).toBe('a site admin');
    expect(describe(role('Author'))).toBe("the ticket's author");
  });

  it('says "not" for a negated condition', () => {
    expect(describe(is('isAuthor', true))).toBe("not the ticket's author");
    expect(describe(role('SiteAdmin', true))).toBe('not a site admin');
  });

  it('joins a group with "and" or "or", and brackets nested groups of several conditions', () => {
    expect(describe(or(is('isResourceAdmin'), is('isSiteAdmin'), is('isAuthor')))).toBe(
      "an admin of the ticket's API or app or a site admin or the ticket's author",
    );
    expect(describe(and(is('isSiteAdmin'), is('isAuthor', true)))).toBe(
      "a site admin and not the ticket's author",
    );
    expect(describe(or(and(is('isSiteAdmin'), is('isAuthor')), and(is('isResourceAdmin'))))).toBe(
      "(a site admin and the ticket's author) or an admin of the ticket's API or app",
    );
  });

  it('has words for empty groups', () => {
    expect(describe(and())).toBe('anyone');
    expect(describe(or())).toBe('nobody');
  });

  it('gives the reason an actor is refused', () => {
    expect(notAllowedReason(or(role('Admin'), is('isAuthor')))).toBe(
      "only an admin of the ticket's API or app, or a site admin or the ticket's author may do this",
    );
    expect(notAllowedReason(or())).toBe('nobody may do this');
  });
});
