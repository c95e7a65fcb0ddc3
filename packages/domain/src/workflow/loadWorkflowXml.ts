import { err, ok, type Result } from '../result.js';
import { isTicketState, TICKET_STATES } from '../ticket.js';
import { parseXml, type XmlElement } from '../xml/parseXml.js';
import {
  ATMOSPHERE_ROLES,
  CONDITION_TYPES,
  FUNCTION_TYPES,
  type AtmosphereRole,
  type ConditionalResult,
  type ConditionGroup,
  type ConditionNode,
  type WorkflowAction,
  type WorkflowDefinition,
  type WorkflowFunction,
  type WorkflowResult,
  type WorkflowStep,
} from './definition.js';

/** A problem in a workflow definition, with where it is (one-based line and column). */
export interface WorkflowXmlError {
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

/** OSWorkflow elements this engine does not run; a definition using them is refused, not trimmed. */
const NOT_SUPPORTED = new Set([
  'splits',
  'split',
  'joins',
  'join',
  'pre-functions',
  'validators',
  'global-actions',
  'common-actions',
  'common-action',
  'global-conditions',
  'registers',
  'trigger-functions',
  'external-permissions',
]);

/** `result step="-1"`: stay on the current step. */
const STAY = -1;

const isOneOf = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value);

const article = (word: string): string => (/^[aeiou]/i.test(word) ? 'an' : 'a');

const quoted = (list: readonly string[]): string => list.map((item) => `"${item}"`).join(', ');

/** A step reference to check once every step id is known. */
interface StepReference {
  readonly step: number;
  readonly element: XmlElement;
  readonly initial: boolean;
}

/**
 * Reads a definition and collects every problem on the way. Each `read*` method returns what it
 * could make of its element (possibly with placeholders); the result is only used when no
 * problem was found.
 */
class Reader {
  readonly errors: WorkflowXmlError[] = [];
  private readonly actionIds = new Map<number, XmlElement>();
  private readonly stepReferences: StepReference[] = [];

  report(element: XmlElement, message: string): void {
    this.errors.push({ message, line: element.line, column: element.column });
  }

  /** An attribute, if present (own properties only: `constructor` is not an attribute). */
  attribute(element: XmlElement, name: string): string | undefined {
    return Object.hasOwn(element.attributes, name) ? element.attributes[name] : undefined;
  }

  /** A required, non-blank attribute. */
  required(element: XmlElement, name: string, what: string): string | undefined {
    const value = this.attribute(element, name)?.trim();
    if (value) return value;
    this.report(element, `${what} needs ${article(name)} "${name}" attribute`);
    return undefined;
  }

  /**
   * A required integer attribute, written as plain digits (with a `-` if `negative` allows);
   * `NaN` when missing or malformed.
   */
  integer(element: XmlElement, name: string, what: string, negative = false): number {
    const raw = this.attribute(element, name);
    if (raw === undefined) {
      this.report(element, `${what} needs ${article(name)} "${name}" attribute`);
      return NaN;
    }
    const value = Number(raw);
    if (!(negative ? /^-?\d+$/ : /^\d+$/).test(raw) || !Number.isSafeInteger(value)) {
      this.report(
        element,
        `${what}: "${name}" must be ${negative ? 'an integer' : 'a non-negative integer'}, not "${raw}"`,
      );
      return NaN;
    }
    return value;
  }

  /**
   * Checks the children of `element` against the names it may hold; unsupported OSWorkflow
   * elements and unknown ones are reported. `<meta>` is allowed where `meta` is listed.
   */
  children(element: XmlElement, allowed: readonly string[]): void {
    for (const child of element.children) {
      if (allowed.includes(child.name)) continue;
      if (NOT_SUPPORTED.has(child.name)) {
        this.report(child, `<${child.name}> is not supported by this workflow engine`);
      } else {
        this.report(
          child,
          `unexpected element <${child.name}> in <${element.name}>; expected ${allowed.map((name) => `<${name}>`).join(', ')}`,
        );
      }
    }
  }

  /** The one child called `name`, if any; a second one is reported. */
  single(element: XmlElement, name: string): XmlElement | undefined {
    const [first, ...rest] = element.children.filter((child) => child.name === name);
    for (const extra of rest) this.report(extra, `<${element.name}> may hold only one <${name}>`);
    return first;
  }

  /** The `<arg name="...">` values of a condition or function, trimmed, one per name. */
  args(element: XmlElement, what: string): Map<string, { value: string; element: XmlElement }> {
    const args = new Map<string, { value: string; element: XmlElement }>();
    this.children(element, ['arg']);
    for (const arg of element.children) {
      if (arg.name !== 'arg') continue;
      const name = this.required(arg, 'name', `an <arg> of ${what}`);
      if (name === undefined) continue;
      if (args.has(name)) this.report(arg, `${what} has more than one "${name}" argument`);
      else args.set(name, { value: arg.text.trim(), element: arg });
    }
    return args;
  }

  readWorkflow(root: XmlElement): WorkflowDefinition {
    const name = this.required(root, 'name', 'the <workflow>') ?? '';
    this.children(root, ['meta', 'initial-actions', 'steps']);

    const initialActions = this.single(root, 'initial-actions');
    const initialElements = initialActions
      ? initialActions.children.filter((child) => child.name === 'action')
      : [];
    if (initialActions) this.children(initialActions, ['action']);
    if (initialElements.length !== 1) {
      this.report(
        initialActions ?? root,
        `the workflow needs exactly one initial action in <initial-actions>, found ${initialElements.length}`,
      );
    }
    const initialAction = initialElements[0]
      ? this.readAction(initialElements[0], true)
      : placeholderAction;

    const stepsElement = this.single(root, 'steps');
    if (stepsElement) this.children(stepsElement, ['step']);
    const stepElements = stepsElement
      ? stepsElement.children.filter((child) => child.name === 'step')
      : [];
    if (stepElements.length === 0) {
      this.report(stepsElement ?? root, 'the workflow has no steps: <steps> needs a <step>');
    }
    const steps = stepElements.map((element) => this.readStep(element));

    const stepIds = new Map<number, XmlElement>();
    steps.forEach((step, index) => {
      const element = stepElements[index]!;
      if (Number.isNaN(step.id)) return;
      const first = stepIds.get(step.id);
      if (first) this.report(element, `duplicate step id ${step.id} (first on line ${first.line})`);
      else stepIds.set(step.id, element);
    });
    for (const reference of this.stepReferences) {
      if (reference.step === STAY && !reference.initial) continue;
      if (reference.step === STAY) {
        this.report(reference.element, 'the initial action cannot stay on a step (step "-1")');
      } else if (!stepIds.has(reference.step)) {
        this.report(
          reference.element,
          `the result leads to step ${reference.step}, which does not exist`,
        );
      }
    }

    return { name, initialAction, steps };
  }

  readStep(element: XmlElement): WorkflowStep {
    const id = this.integer(element, 'id', 'a <step>');
    const name =
      this.required(element, 'name', `step ${this.attribute(element, 'id') ?? '?'}`) ?? '';
    const what = `step ${this.attribute(element, 'id') ?? '?'} "${name}"`;
    this.children(element, ['meta', 'actions']);
    const actionsElement = this.single(element, 'actions');
    if (actionsElement) this.children(actionsElement, ['action']);
    const actionElements = actionsElement
      ? actionsElement.children.filter((child) => child.name === 'action')
      : [];
    const actions = actionElements.map((action) => this.readAction(action, false));

    const names = new Map<string, XmlElement>();
    actions.forEach((action, index) => {
      if (action.name === '') return;
      const first = names.get(action.name);
      if (first) {
        this.report(
          actionElements[index]!,
          `${what} has two actions named "${action.name}" (first on line ${first.line})`,
        );
      } else names.set(action.name, actionElements[index]!);
    });
    return { id, name, actions };
  }

  readAction(element: XmlElement, initial: boolean): WorkflowAction {
    const id = this.integer(element, 'id', 'an <action>');
    const first = this.actionIds.get(id);
    if (first) this.report(element, `duplicate action id ${id} (first on line ${first.line})`);
    else if (!Number.isNaN(id)) this.actionIds.set(id, element);
    const rawId = this.attribute(element, 'id');
    const name = this.required(element, 'name', `action ${rawId ?? '?'}`) ?? '';
    const what = `action ${rawId ?? '?'} "${name}"`;

    this.children(element, ['meta', 'restrict-to', 'results', 'post-functions']);
    const label =
      element.children
        .find((child) => child.name === 'meta' && this.attribute(child, 'name') === 'label')
        ?.text.trim() || name;

    const restrictElement = this.single(element, 'restrict-to');
    let restrictTo: ConditionGroup | undefined;
    if (restrictElement) {
      if (initial) {
        this.report(
          restrictElement,
          'the initial action cannot have <restrict-to>: it always runs',
        );
      }
      restrictTo = this.readConditionsIn(restrictElement, `the <restrict-to> of ${what}`);
    }

    const resultsElement = this.single(element, 'results');
    let conditionalResults: ConditionalResult[] = [];
    let unconditionalResult: WorkflowResult = placeholderResult;
    if (!resultsElement) {
      this.report(element, `${what} has no <results> (it needs an <unconditional-result>)`);
    } else {
      this.children(resultsElement, ['result', 'unconditional-result']);
      const unconditional = resultsElement.children.filter(
        (child) => child.name === 'unconditional-result',
      );
      if (unconditional.length === 0) {
        this.report(resultsElement, `${what} has no <unconditional-result>`);
      }
      for (const extra of unconditional.slice(1)) {
        this.report(extra, `${what} has more than one <unconditional-result>`);
      }
      if (unconditional[0]) {
        unconditionalResult = this.readResult(unconditional[0], initial, what);
      }
      const conditional = resultsElement.children.filter((child) => child.name === 'result');
      if (initial) {
        for (const result of conditional) {
          this.report(result, 'the initial action cannot have conditional results');
        }
      }
      conditionalResults = conditional.map((result) => ({
        ...this.readResult(result, initial, what),
        conditions:
          this.readConditionsIn(result, `a conditional <result> of ${what}`) ?? placeholderGroup,
      }));
    }

    return {
      id,
      name,
      label,
      ...(restrictTo ? { restrictTo } : {}),
      conditionalResults,
      unconditionalResult,
      postFunctions: this.readPostFunctions(element, what),
    };
  }

  /** A `<result>` or `<unconditional-result>` except its conditions. */
  readResult(element: XmlElement, initial: boolean, what: string): WorkflowResult {
    const conditional = element.name === 'result';
    this.children(element, conditional ? ['conditions', 'post-functions'] : ['post-functions']);
    for (const attribute of ['split', 'join']) {
      if (this.attribute(element, attribute) !== undefined) {
        this.report(element, `results leading to a ${attribute} are not supported`);
      }
    }
    const step = this.integer(element, 'step', `a <${element.name}> of ${what}`, true);
    if (!Number.isNaN(step)) this.stepReferences.push({ step, element, initial });
    const status = this.attribute(element, 'status');
    const oldStatus = this.attribute(element, 'old-status');
    return {
      step,
      ...(status === undefined ? {} : { status }),
      ...(oldStatus === undefined ? {} : { oldStatus }),
      postFunctions: this.readPostFunctions(element, `a result of ${what}`),
    };
  }

  /** The one `<conditions>` group inside a `<restrict-to>` or `<result>`; required there. */
  readConditionsIn(element: XmlElement, what: string): ConditionGroup | undefined {
    if (element.name === 'restrict-to') this.children(element, ['conditions']);
    const group = this.single(element, 'conditions');
    if (!group) {
      this.report(element, `${what} needs a <conditions> group`);
      return undefined;
    }
    return this.readGroup(group);
  }

  readGroup(element: XmlElement): ConditionGroup {
    const type = this.attribute(element, 'type') ?? 'AND';
    if (type !== 'AND' && type !== 'OR') {
      this.report(element, `<conditions> type must be "AND" or "OR", not "${type}"`);
    }
    this.children(element, ['condition', 'conditions']);
    const members = element.children.filter(
      (child) => child.name === 'condition' || child.name === 'conditions',
    );
    if (members.length === 0) {
      this.report(element, 'a <conditions> group needs at least one <condition> or <conditions>');
    }
    const conditions = members.map((child) =>
      child.name === 'conditions' ? this.readGroup(child) : this.readCondition(child),
    );
    return { kind: 'group', type: type === 'OR' ? 'OR' : 'AND', conditions };
  }

  readCondition(element: XmlElement): ConditionNode {
    const raw = this.attribute(element, 'negate');
    const negate = raw === undefined ? false : parseBoolean(raw);
    if (negate === undefined) {
      this.report(element, `a condition's "negate" must be "true" or "false", not "${raw}"`);
    }
    const type = this.attribute(element, 'type') ?? '';
    const args = this.args(element, `the condition "${type}"`);
    if (!isOneOf(CONDITION_TYPES, type)) {
      this.report(
        element,
        `unknown condition type "${type}"; known types: ${quoted(CONDITION_TYPES)}`,
      );
      return placeholderCondition;
    }
    if (type !== 'authorizeByAtmosphereRole') {
      return { kind: 'condition', type, negate: negate ?? false };
    }
    const role = args.get('role');
    if (!role || !isOneOf(ATMOSPHERE_ROLES, role.value)) {
      this.report(
        role?.element ?? element,
        role
          ? `unknown role "${role.value}" for authorizeByAtmosphereRole; known roles: ${quoted(ATMOSPHERE_ROLES)}`
          : `authorizeByAtmosphereRole needs an <arg name="role"> (one of ${quoted(ATMOSPHERE_ROLES)})`,
      );
    }
    return {
      kind: 'condition',
      type,
      role: (role?.value ?? '') as AtmosphereRole,
      negate: negate ?? false,
    };
  }

  readPostFunctions(element: XmlElement, what: string): WorkflowFunction[] {
    const container = this.single(element, 'post-functions');
    if (!container) return [];
    this.children(container, ['function']);
    return container.children
      .filter((child) => child.name === 'function')
      .map((fn) => this.readFunction(fn, what));
  }

  readFunction(element: XmlElement, what: string): WorkflowFunction {
    const type = this.attribute(element, 'type') ?? '';
    const args = this.args(element, `the function "${type}" of ${what}`);
    if (!isOneOf(FUNCTION_TYPES, type)) {
      this.report(
        element,
        `unknown function type "${type}"; known types: ${quoted(FUNCTION_TYPES)}`,
      );
      return placeholderFunction;
    }
    const status = args.get('status');
    if (!status || !isTicketState(status.value)) {
      this.report(
        status?.element ?? element,
        status
          ? `updateTicketStatus: unknown status "${status.value}"; known statuses: ${quoted(TICKET_STATES)}`
          : `updateTicketStatus needs an <arg name="status"> (one of ${quoted(TICKET_STATES)})`,
      );
      return placeholderFunction;
    }
    return { type, status: status.value };
  }
}

function parseBoolean(value: string): boolean | undefined {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

// Stand-ins for parts that failed to read; a definition holding one is never returned.
const placeholderResult: WorkflowResult = { step: NaN, postFunctions: [] };
const placeholderGroup: ConditionGroup = { kind: 'group', type: 'AND', conditions: [] };
const placeholderCondition: ConditionNode = {
  kind: 'condition',
  type: 'isSiteAdmin',
  negate: false,
};
const placeholderFunction: WorkflowFunction = { type: 'updateTicketStatus', status: 'OPEN' };
const placeholderAction: WorkflowAction = {
  id: NaN,
  name: '',
  label: '',
  conditionalResults: [],
  unconditionalResult: placeholderResult,
  postFunctions: [],
};

/**
 * Loads an OSWorkflow-style XML definition (see `workflows/default-ticket-workflow.xml` for the
 * format). Every problem found is reported, in document order, each at the element at fault;
 * malformed XML is one problem. A DOCTYPE is refused, so no entity can be declared or expanded.
 */
export function loadWorkflowXml(source: string): Result<WorkflowDefinition, WorkflowXmlError[]> {
  const parsed = parseXml(source);
  if (!parsed.ok) {
    const { message, line, column } = parsed.error;
    return err([{ message: `malformed XML: ${message}`, line, column }]);
  }
  const root = parsed.value;
  if (root.name !== 'workflow') {
    return err([
      {
        message: `the root element must be <workflow>, not <${root.name}>`,
        line: root.line,
        column: root.column,
      },
    ]);
  }
  const reader = new Reader();
  const definition = reader.readWorkflow(root);
  if (reader.errors.length > 0) {
    return err(reader.errors.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return ok(definition);
}
