import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import {
  defaultTicketWorkflow,
  err,
  hasForbiddenCharacters,
  loadWorkflowXml,
  ENVIRONMENTS,
  isTenantId,
  parseId,
  ok,
  PRIORITY_LABELS,
  reachableStates,
  startTicket,
  TICKET_STATES,
  type HistoryEntry,
  type Result,
  type Ticket,
  type TicketId,
  type WorkflowDefinition,
} from '@tickets/domain';
import { fieldPath } from '@tickets/contract';
import { z } from 'zod';
import { PasswordChecks } from './service/passwordChecks.js';
import { hashPassword, verifyPassword } from './service/passwords.js';
import type { ProvisionPlan, ProvisionSummary, Store } from './store/store.js';

const tenantId = z
  .string()
  .refine(isTenantId, 'must be a tenant id: a letter, then letters, digits, _ or -');
const platformId = z.string().refine((id) => parseId(id).ok, 'must look like {local}.{tenant}');

/** Text as tickets hold it: bounded, and nothing XML (or PostgreSQL) cannot carry. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !hasForbiddenCharacters(value), 'contains control characters');

const ProvisionFile = z
  .object({
    tenants: z
      .array(
        z
          .object({
            id: tenantId,
            name: text(200).pipe(z.string().min(1)),
            /** Path of an OSWorkflow-style XML file: the workflow of the tenant's new tickets. */
            workflow: z.string().min(1).max(4096).optional(),
          })
          .strict(),
      )
      .default([]),
    users: z
      .array(
        z
          .object({
            id: platformId,
            email: z.email().max(320),
            password: z.string().min(8, 'at least 8 characters').max(1024),
            name: text(200).pipe(z.string().min(1)),
            siteAdmin: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    resources: z
      .array(
        z
          .object({
            id: platformId,
            type: z.enum(['api', 'app']),
            name: text(200).pipe(z.string().min(1)),
            admins: z.array(platformId).default([]),
          })
          .strict(),
      )
      .default([]),
    tickets: z
      .array(
        z
          .object({
            id: platformId,
            Title: text(200).pipe(z.string().trim().min(1)),
            Description: text(20_000).default(''),
            Environment: z.enum(ENVIRONMENTS),
            APIID: platformId.optional(),
            AppID: platformId.optional(),
            Label: z
              .array(z.enum(PRIORITY_LABELS))
              .max(1)
              .default(['com.soa.ticket.label.priority.medium']),
            Tag: z
              .array(text(64).pipe(z.string().min(1)))
              .max(20)
              .default([]),
            author: platformId,
            State: z.enum(TICKET_STATES).default('OPEN'),
            Created: z.iso.datetime().optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type ProvisionInput = z.input<typeof ProvisionFile>;

/** A problem in a provisioning file, with the path of the bad field (`users[0].email`). */
export interface ProvisionIssue {
  readonly path: string;
  readonly message: string;
}

export class ProvisionError extends Error {
  constructor(readonly issues: readonly ProvisionIssue[]) {
    super(
      `the provisioning file has ${issues.length} problem(s):\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    );
    this.name = 'ProvisionError';
  }
}

const tenantOfId = (id: string): string =>
  parseId(id).ok ? id.slice(id.lastIndexOf('.') + 1) : '';

/**
 * Applies a provisioning file (CONTRACT §6), idempotently: a second run changes nothing. The
 * whole file is checked first (every problem reported with its path) and applied in one
 * transaction, so nothing is applied when anything is wrong.
 */
export async function provision(
  store: Store,
  input: unknown,
  options: ProvisionOptions = {},
): Promise<ProvisionSummary> {
  const parsed = ProvisionFile.safeParse(input);
  if (!parsed.success) {
    throw new ProvisionError(
      parsed.error.issues.map((issue) => ({
        path: fieldPath(issue.path) || '(file)',
        message: issue.message,
      })),
    );
  }
  const file = parsed.data;
  const now = options.now ?? (() => new Date());
  const builtIn = options.workflow ?? defaultTicketWorkflow;
  const readFile = options.readFile ?? ((path: string) => readFileSync(resolve(path), 'utf8'));
  const issues: ProvisionIssue[] = [];
  const report = progressReporter(options.progress, file.users.length);

  // Each tenant's own workflow file, read and checked: every problem reported with its line.
  const loadedWorkflows = new Map<
    string,
    { name: string; xml: string; definition: WorkflowDefinition }
  >();
  for (const [index, tenant] of file.tenants.entries()) {
    if (tenant.workflow === undefined) continue;
    const path = `tenants[${index}].workflow`;
    let xml: string;
    try {
      xml = readFile(tenant.workflow);
    } catch (error) {
      issues.push({ path, message: `cannot read ${tenant.workflow}: ${(error as Error).message}` });
      continue;
    }
    const loaded = loadWorkflowXml(xml);
    if (!loaded.ok) {
      for (const problem of loaded.error) {
        issues.push({
          path,
          message: `${tenant.workflow} line ${problem.line}, column ${problem.column}: ${problem.message}`,
        });
      }
      continue;
    }
    loadedWorkflows.set(tenant.id, { name: loaded.value.name, xml, definition: loaded.value });
  }
  /** The workflow a tenant's provisioned tickets follow: the file's, else the stored one's, else the built-in. */
  const workflowOf = async (tenant: string): Promise<WorkflowDefinition> => {
    const loaded = loadedWorkflows.get(tenant);
    if (loaded) return loaded.definition;
    const workflowId = (await store.getTenant(tenant))?.workflowId;
    const stored = workflowId === undefined ? undefined : await store.getWorkflow(workflowId);
    const definition = stored ? loadWorkflowXml(stored.xml) : undefined;
    return definition?.ok ? definition.value : builtIn;
  };

  const tenants = new Set(file.tenants.map((tenant) => tenant.id));
  const knownTenant = async (tenant: string): Promise<boolean> =>
    tenants.has(tenant) || (await store.getTenant(tenant)) !== undefined;
  const users = new Map(file.users.map((user) => [user.id, user]));
  const knownUser = async (id: string): Promise<boolean> =>
    users.has(id) || (await store.getUser(id)) !== undefined;
  const resources = new Map(file.resources.map((resource) => [resource.id, resource]));
  const resourceType = async (id: string): Promise<string | undefined> =>
    resources.get(id)?.type ?? (await store.getResource(id))?.type;

  for (const section of ['tenants', 'users', 'resources', 'tickets'] as const) {
    const ids = file[section].map((entry) => entry.id);
    ids.forEach((id, index) => {
      if (ids.indexOf(id) !== index) {
        issues.push({ path: `${section}[${index}].id`, message: `duplicate id ${id}` });
      }
    });
  }

  for (const [index, user] of file.users.entries()) {
    if (!(await knownTenant(tenantOfId(user.id)))) {
      issues.push({ path: `users[${index}].id`, message: `no tenant ${tenantOfId(user.id)}` });
    }
    const sameEmail = file.users.findIndex(
      (other) =>
        other.email.toLowerCase() === user.email.toLowerCase() &&
        tenantOfId(other.id) === tenantOfId(user.id),
    );
    if (sameEmail !== index)
      issues.push({ path: `users[${index}].email`, message: `same e-mail as users[${sameEmail}]` });
    const existing = (await store.findUsersByEmail(user.email, tenantOfId(user.id))).find(
      (other) => other.id !== user.id,
    );
    if (existing)
      issues.push({
        path: `users[${index}].email`,
        message: `${existing.id} already has this e-mail`,
      });
  }
  for (const [index, resource] of file.resources.entries()) {
    const tenant = tenantOfId(resource.id);
    if (!(await knownTenant(tenant)))
      issues.push({ path: `resources[${index}].id`, message: `no tenant ${tenant}` });
    // Tickets name an API as `APIID` and an app as `AppID`: a resource that tickets name keeps
    // its type, or they would name an app as an API.
    const stored = await store.getResource(resource.id);
    if (stored !== undefined && stored.type !== resource.type) {
      const named = await store.listTickets({
        tenant,
        ...(stored.type === 'api' ? { apiId: resource.id } : { appId: resource.id }),
        start: 0,
        count: 0,
      });
      if (named.total > 0) {
        issues.push({
          path: `resources[${index}].type`,
          message: `${resource.id} is the ${stored.type === 'api' ? 'APIID' : 'AppID'} of ${named.total} ticket(s): its type stays ${stored.type}`,
        });
      }
    }
    for (const [i, admin] of resource.admins.entries()) {
      if (!(await knownUser(admin)))
        issues.push({ path: `resources[${index}].admins[${i}]`, message: `no user ${admin}` });
      else if (tenantOfId(admin) !== tenant) {
        issues.push({
          path: `resources[${index}].admins[${i}]`,
          message: `${admin} is not a user of tenant ${tenant}`,
        });
      }
    }
  }
  const tickets: ProvisionPlan['tickets'][number][] = [];
  for (const [index, ticket] of file.tickets.entries()) {
    const tenant = tenantOfId(ticket.id);
    const at = (field: string) => `tickets[${index}].${field}`;
    if (!(await knownTenant(tenant)))
      issues.push({ path: at('id'), message: `no tenant ${tenant}` });
    if (!(await knownUser(ticket.author)))
      issues.push({ path: at('author'), message: `no user ${ticket.author}` });
    else if (tenantOfId(ticket.author) !== tenant)
      issues.push({ path: at('author'), message: `not a user of tenant ${tenant}` });
    const provisioned = provisionedTicket(
      await workflowOf(tenant),
      ticket,
      ticket.Created ? new Date(ticket.Created) : now(),
    );
    if (provisioned.ok) tickets.push(provisioned.value);
    else issues.push({ path: at('State'), message: provisioned.error });
    if (ticket.APIID === undefined && ticket.AppID === undefined) {
      issues.push({ path: at('APIID'), message: 'a ticket needs an APIID or an AppID' });
    }
    for (const [field, type] of [
      ['APIID', 'api'],
      ['AppID', 'app'],
    ] as const) {
      const id = ticket[field];
      if (id === undefined) continue;
      const found = await resourceType(id);
      if (found === undefined) issues.push({ path: at(field), message: `no resource ${id}` });
      else if (found !== type)
        issues.push({ path: at(field), message: `${id} is an ${found}, not an ${type}` });
      else if (tenantOfId(id) !== tenant)
        issues.push({ path: at(field), message: `${id} is not a resource of tenant ${tenant}` });
    }
  }
  if (issues.length > 0) throw new ProvisionError(issues);

  const plan: ProvisionPlan = {
    tenants: file.tenants.map((tenant) => ({
      id: tenant.id,
      name: tenant.name,
      workflow: loadedWorkflows.get(tenant.id),
    })),
    users: await passwordHashes(store, file.users, report),
    resources: file.resources.map((resource) => ({
      id: resource.id,
      tenant: tenantOfId(resource.id),
      type: resource.type,
      name: resource.name,
      admins: resource.admins,
    })),
    tickets,
  };
  return store.applyProvision(plan);
}

export interface ProvisionOptions {
  /** The clock, for tickets without `Created`. */
  readonly now?: () => Date;
  /** The built-in workflow, for tenants without one of their own. */
  readonly workflow?: WorkflowDefinition;
  /** Reads a tenant's workflow file; the CLI resolves paths against the provisioning file. */
  readonly readFile?: (path: string) => string;
  /** Told what is happening, for files large enough to take a while (the CLI writes to stderr). */
  readonly progress?: (message: string) => void;
}

/** From this many users on, checking passwords takes seconds: say how far it got. */
export const PROGRESS_FROM_USERS = 20;

type Report = (done: number) => void;

/** Reports every tenth of the users' passwords, for a file with many users; else nothing. */
function progressReporter(
  progress: ((message: string) => void) | undefined,
  total: number,
): Report {
  if (progress === undefined || total < PROGRESS_FROM_USERS) return () => {};
  progress(`checking the passwords of ${total} users (a slow hash each, by design)`);
  const step = Math.ceil(total / 10);
  return (done) => {
    if (done % step === 0 || done === total) progress(`passwords: ${done}/${total}`);
  };
}

type FileUser = z.output<typeof ProvisionFile>['users'][number];

/**
 * The users as stored: a password that did not change keeps its stored hash (it is verified
 * against it first), so running a file again hashes nothing anew and ends no session. One
 * check per core at a time: more would not finish sooner (scrypt holds a core), and libuv's
 * four threads running at once held 32 MiB (8 each) where two hold 16.
 */
async function passwordHashes(
  store: Store,
  users: readonly FileUser[],
  report: Report,
): Promise<ProvisionPlan['users']> {
  // `runInTurn` queues every user, whatever the queue's limit (which only `run` heeds).
  const checks = new PasswordChecks(availableParallelism(), 0);
  let done = 0;
  return Promise.all(
    users.map(async (user) => {
      const stored = await store.getUser(user.id);
      const passwordHash = await checks.runInTurn(async () =>
        stored !== undefined && (await verifyPassword(user.password, stored.passwordHash))
          ? stored.passwordHash
          : hashPassword(user.password),
      );
      report((done += 1));
      return {
        id: user.id,
        tenant: tenantOfId(user.id),
        email: user.email.toLowerCase(),
        name: user.name,
        siteAdmin: user.siteAdmin,
        passwordHash,
      };
    }),
  );
}

/**
 * A provisioned ticket; one in a state other than the initial one records that in its history,
 * and sits on a step the workflow's actions would have taken it to. A ticket in a state the
 * workflow never gives it is refused with the states it does give.
 */
function provisionedTicket(
  workflow: WorkflowDefinition,
  input: z.output<typeof ProvisionFile>['tickets'][number],
  created: Date,
): Result<{ ticket: Ticket; history: HistoryEntry[] }, string> {
  const started = startTicket(
    workflow,
    {
      id: input.id as TicketId,
      tenant: tenantOfId(input.id),
      title: input.Title,
      description: input.Description,
      environment: input.Environment,
      apiId: input.APIID,
      appId: input.AppID,
      labels: input.Label,
      tags: input.Tag,
      authorId: input.author,
    },
    created,
  );
  if (input.State === started.state) return ok({ ticket: started, history: [] });
  const reached = reachableStates(workflow, started);
  const step = reached.get(input.State);
  if (step === undefined) {
    return err(
      `the workflow never reaches ${input.State}; it reaches ${TICKET_STATES.filter((state) => reached.has(state)).join(', ')}`,
    );
  }
  // The history row's comment counts as a transition's comments do.
  const comments = [`Provisioned in state ${input.State}`];
  const ticket: Ticket = {
    ...started,
    state: input.State,
    step,
    version: started.version + 1,
    commentCount: started.commentCount + comments.length,
  };
  return ok({
    ticket,
    history: [
      {
        action: 'provision',
        from: started.state,
        to: input.State,
        comments,
        userId: input.author,
        created: created.toISOString(),
      },
    ],
  });
}
