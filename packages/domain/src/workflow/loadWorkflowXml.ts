import { err, type Result } from '../result.js';
import type { WorkflowDefinition } from './definition.js';

/** A problem in a workflow definition, with where it is (one-based line and column). */
export interface WorkflowXmlError {
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

/** Loads an OSWorkflow-style XML definition. (Being written; see the loader tests.) */
export function loadWorkflowXml(_source: string): Result<WorkflowDefinition, WorkflowXmlError[]> {
  return err([{ message: 'not implemented', line: 1, column: 1 }]);
}
