// GET /api/docs: a browsable page of the OpenAPI document, from files the server ships (no CDN),
// under a Content-Security-Policy that allows only them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCS_ASSETS_PATH, DOCS_CSP } from '../src/rest/docsRoutes.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const swaggerUiFile = (name: string): string =>
  readFileSync(createRequire(import.meta.url).resolve(`swagger-ui-dist/${name}`), 'utf8');

describe('/api/docs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  /** The `src` and `href` attributes of a page. */
  const references = (html: string): string[] =>
    [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);

  it('answers an HTML page that loads only files of this server, under a strict CSP', async () => {
    const response = await fetch(`${server.url}/api/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    const csp = response.headers.get('Content-Security-Policy');
    expect(csp).toBe(DOCS_CSP);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
    expect(response.headers.get('X-Request-Id')).toBeTruthy();
    const html = await response.text();
    expect(html).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    const urls = references(html);
    expect(urls.sort()).toEqual(
      [
        `${DOCS_ASSETS_PATH}/docs.js`,
        `${DOCS_ASSETS_PATH}/swagger-ui-bundle.js`,
        `${DOCS_ASSETS_PATH}/swagger-ui.css`,
      ].sort(),
    );
  });

  it('serves every file the page loads, swagger-ui as its package ships it', async () => {
    const html = await (await fetch(`${server.url}/api/docs`)).text();
    for (const url of references(html)) {
      const response = await fetch(`${server.url}${url}`);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('Cache-Control'), url).toContain('immutable');
      const type = response.headers.get('Content-Type') ?? '';
      expect(type, url).toMatch(url.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      const body = await response.text();
      const name = url.slice(url.lastIndexOf('/') + 1);
      if (name === 'docs.js') {
        // The page's own script shows the server's document.
        expect(body).toContain('SwaggerUIBundle(');
        expect(body).toContain('"/api/openapi.json"');
      } else {
        expect(body, url).toBe(swaggerUiFile(name));
      }
    }
  });

  it('the document it points at is served', async () => {
    const response = await fetch(`${server.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as { openapi: string }).openapi).toMatch(/^3\.1\./);
  });

  it.each([
    `${DOCS_ASSETS_PATH}/package.json`,
    `${DOCS_ASSETS_PATH}/..%2Fpackage.json`,
    `${DOCS_ASSETS_PATH}/swagger-ui.js.map`,
    '/api/docs/assets/0.0.0/swagger-ui.css',
  ])('answers 404 for anything else: %s', async (path) => {
    const response = await fetch(`${server.url}${path}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('Content-Type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as { type: string }).type).toBe(
      'urn:tickets:problem:not-found',
    );
  });
});
