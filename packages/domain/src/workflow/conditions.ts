import type { Actor } from '../actor.js';
import { resourcesOf, type Ticket } from '../ticket.js';
import type { Condition, ConditionGroup, ConditionNode } from './definition.js';

/** Guards, named for the question they answer. */
export const guards = {
  isResourceAdmin: (actor: Actor, ticket: Ticket): boolean =>
    actor.tenant === ticket.tenant && resourcesOf(ticket).some((id) => actor.adminOf.includes(id)),
  isSiteAdmin: (actor: Actor, ticket: Ticket): boolean =>
    actor.tenant === ticket.tenant && actor.siteAdmin,
  isAuthor: (actor: Actor, ticket: Ticket): boolean =>
    actor.tenant === ticket.tenant && actor.userId === ticket.authorId,
} as const;

function evaluateCondition(condition: Condition, actor: Actor, ticket: Ticket): boolean {
  let holds: boolean;
  if (condition.type === 'authorizeByAtmosphereRole') {
    switch (condition.role) {
      case 'Admin':
        holds = guards.isResourceAdmin(actor, ticket) || guards.isSiteAdmin(actor, ticket);
        break;
      case 'SiteAdmin':
        holds = guards.isSiteAdmin(actor, ticket);
        break;
      case 'Author':
        holds = guards.isAuthor(actor, ticket);
        break;
    }
  } else {
    holds = guards[condition.type](actor, ticket);
  }
  return condition.negate ? !holds : holds;
}

export function evaluate(node: ConditionNode, actor: Actor, ticket: Ticket): boolean {
  if (node.kind === 'condition') return evaluateCondition(node, actor, ticket);
  return node.type === 'AND'
    ? node.conditions.every((child) => evaluate(child, actor, ticket))
    : node.conditions.some((child) => evaluate(child, actor, ticket));
}

const ROLE_WORDS: Record<string, string> = {
  isResourceAdmin: "an admin of the ticket's API or app",
  isSiteAdmin: 'a site admin',
  isAuthor: "the ticket's author",
  Admin: "an admin of the ticket's API or app, or a site admin",
  SiteAdmin: 'a site admin',
  Author: "the ticket's author",
};

function describeCondition(condition: Condition): string {
  const words =
    ROLE_WORDS[condition.type === 'authorizeByAtmosphereRole' ? condition.role : condition.type];
  return condition.negate ? `not ${words}` : `${words}`;
}

/** Who a condition group lets through, in words: "an admin of ... or the ticket's author". */
export function describe(node: ConditionNode): string {
  if (node.kind === 'condition') return describeCondition(node);
  // An empty AND holds for everyone, an empty OR for no one (see `evaluate`).
  if (node.conditions.length === 0) return node.type === 'AND' ? 'anyone' : 'nobody';
  const parts = node.conditions.map((child) =>
    child.kind === 'group' && child.conditions.length > 1
      ? `(${describe(child)})`
      : describe(child),
  );
  return parts.join(node.type === 'AND' ? ' and ' : ' or ');
}

/** A human reason an actor may not take an action restricted by `group`. */
export function notAllowedReason(group: ConditionGroup): string {
  const who = describe(group);
  return who === 'nobody' ? 'nobody may do this' : `only ${who} may do this`;
}
