// The documentation in docs/ and the README stays true: the curl session of docs/rest-api.md
// runs against a real server with the demo data and answers what the page prints; the page
// names every operation and every error of the contract; the workflow XML of docs/workflows.md
// loads through the real loader; the provisioning example of docs/operating.md applies; and
// every link between the documents points at a file of the repository.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ERROR_TABLE, OPERATIONS, type Operation } from '@tickets/contract';
import { loadWorkflowXml } from '@tickets/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../src/config.js';
import { demoData } from '../src/demo.js';
import { provision } from '../src/provision.js';
import { SqliteStore } from '../src/store/sqlite/sqliteStore.js';
import { SERVER_DIR } from './support/childServer.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const run = promisify(execFile);
const REPOSITORY = resolve(SERVER_DIR, '../..');
const read = (path: string): string => readFileSync(join(REPOSITORY, path), 'utf8');

/** The fenced blocks of a Markdown text, with their language, in order. */
function blocks(markdown: string): { lang: string; body: string }[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((match) => ({
    lang: match[1]!,
    body: match[2]!,
  }));
}

/** What varies from run to run: times and request ids. */
const normalized = (text: string): string =>
  text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>')
    .trimEnd();

describe('docs/rest-api.md', () => {
  const page = read('docs/rest-api.md');
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer({ data: demoData });
    dir = mkdtempSync(join(tmpdir(), 'tickets-docs-'));
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the curl session answers what the page prints', async () => {
    const session = blocks(page.slice(page.indexOf('## A session with curl')));
    const pairs: { script: string; expected: string }[] = [];
    for (let i = 0; i < session.length; i += 2) {
      expect(session[i]!.lang, `block ${i} is a command`).toBe('sh');
      expect(session[i + 1]?.lang, `block ${i + 1} is its answer`).toBe('text');
      pairs.push({ script: session[i]!.body, expected: session[i + 1]!.body });
    }
    expect(pairs.length).toBeGreaterThanOrEqual(5);
    // One shell for the whole session (the cookie jar and $CSRF carry over), a marker between
    // blocks to tell their output apart.
    const MARK = '----- next block -----';
    const script = pairs
      .map(({ script: block }) => block.replaceAll('http://127.0.0.1:8080', server.url))
      .join(`echo '${MARK}'\n`);
    const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      timeout: 30_000,
    });
    const outputs = stdout.split(`${MARK}\n`);
    expect(outputs).toHaveLength(pairs.length);
    pairs.forEach(({ expected }, i) => {
      expect(normalized(outputs[i]!), `block ${i + 1}`).toBe(normalized(expected));
    });
  });

  it('names every operation of the contract, with its method', () => {
    for (const [name, op] of Object.entries(OPERATIONS) as [string, Operation][]) {
      const rest = op.rest;
      if (rest === undefined) continue;
      for (const path of [rest.path, ...(rest.aliases ?? [])]) {
        const shown = path.replace(':id', '{TicketID}');
        expect(page, `${name}: ${shown}`).toContain(`\`${shown}\``);
        expect(page, `${name}: ${rest.method} ${shown}`).toMatch(
          new RegExp(`(${rest.method} +\\| \`|\`${rest.method} )[^\\n]*${escape(shown)}`),
        );
      }
    }
  });

  it('lists every problem type of the error table with its status and tRPC code', () => {
    for (const { slug, status, trpc } of Object.values(ERROR_TABLE)) {
      expect(page).toMatch(new RegExp(`\\| \`${slug}\` +\\| ${status} +\\| \`${trpc}\` +\\|`));
    }
  });
});

describe('docs/workflows.md', () => {
  const page = read('docs/workflows.md');

  const xml = blocks(page).filter((block) => block.lang === 'xml');
  const whole = xml.filter((block) => block.body.includes('</workflow>'));

  it('has workflow definitions that the loader takes, or refuses exactly as the page says', () => {
    expect(whole.length).toBeGreaterThanOrEqual(2);
    for (const { body } of whole) {
      const refusal = /<!-- refused: (.*) -->/.exec(body)?.[1];
      const loaded = loadWorkflowXml(body);
      if (refusal === undefined) {
        expect(loaded.ok ? [] : loaded.error, body.slice(0, 80)).toEqual([]);
      } else {
        expect(loaded.ok, `refused: ${refusal}`).toBe(false);
        if (!loaded.ok) {
          const said = loaded.error.map((p) => `line ${p.line}, column ${p.column}: ${p.message}`);
          expect(said).toContain(refusal);
        }
      }
    }
  });

  it('quotes the shipped default workflow as it is', () => {
    const shipped = read('packages/domain/workflows/default-ticket-workflow.xml');
    const quoted = xml.filter((block) => block.body.includes('<workflow name="ticket">'));
    expect(quoted).toHaveLength(1);
    expect(shipped).toContain(quoted[0]!.body.trim());
  });
});

describe('docs/operating.md', () => {
  it('lists every option of the command line with its default', () => {
    const page = read('docs/operating.md');
    for (const [name, spec] of Object.entries(OPTIONS)) {
      const row = page.split('\n').find((line) => line.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      if ('default' in spec) expect(row, name).toContain(`| \`${spec.default}\``);
    }
  });

  it('has a provisioning file that applies, and applies again without a change', async () => {
    const page = read('docs/operating.md');
    const example = blocks(page).find(
      (block) => block.lang === 'json' && block.body.includes('"tenants"'),
    );
    expect(example).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'tickets-docs-provision-'));
    const store = SqliteStore.open(join(dir, 'tickets.db'));
    try {
      const input = JSON.parse(example!.body) as unknown;
      const first = await provision(store, input);
      expect(first.tenants).toBeGreaterThan(0);
      expect(first.users).toBeGreaterThan(0);
      expect((await store.getUser('root.acme'))?.siteAdmin).toBe(true);
      expect(await provision(store, input)).toEqual({
        tenants: 0,
        workflows: 0,
        users: 0,
        resources: 0,
        tickets: 0,
      });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the documents and their links', () => {
  const documents = [
    'README.md',
    'CHANGELOG.md',
    ...readdirSync(join(REPOSITORY, 'docs')).map((name) => `docs/${name}`),
  ];

  it('the README links to every document in docs/', () => {
    const readme = read('README.md');
    for (const name of readdirSync(join(REPOSITORY, 'docs'))) {
      expect(readme, name).toContain(`](docs/${name})`);
    }
  });

  it.each(documents)('%s links only to files of the repository, and they exist', (document) => {
    const text = read(document);
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
    for (const link of links) {
      if (/^(https?:|mailto:|#)/.test(link)) continue;
      const target = resolve(dirname(join(REPOSITORY, document)), link.replace(/#.*$/, ''));
      expect(target.startsWith(`${REPOSITORY}/`), `${document}: ${link}`).toBe(true);
      expect(existsSync(target), `${document}: ${link}`).toBe(true);
    }
    expect(text).not.toMatch(/\.\.\/shared|\/work\/shared/);
  });
});

/** A string as a regular expression that matches it literally. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
