import { readFileSync } from 'node:fs';

/** One instruction of a Dockerfile: `COPY`, its arguments as written (continuations joined). */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** A build stage: `FROM image AS name` and its instructions. */
export interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** The stages of a Dockerfile, in order: enough of the format to check what this one says. */
export function readDockerfile(path: string): Stage[] {
  const logical = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: { from: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push({ keyword: upper, args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

/** Every argument of the instructions named `keyword` in a stage. */
export const all = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** The last `keyword` of a stage, or undefined. */
export const last = (stage: Stage, keyword: string): string | undefined =>
  all(stage, keyword).at(-1);

/** `ENV A=1 B=2` lines of a stage, as one record. */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of all(stage, 'ENV')) {
    for (const [, name, value] of args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
      env[name!] = value!.replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}

/** An exec-form instruction (`["node", "x.js"]`) as its argument list. */
export function execForm(args: string): string[] {
  const value = JSON.parse(args) as unknown;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`not an exec form: ${args}`);
  }
  return value;
}
