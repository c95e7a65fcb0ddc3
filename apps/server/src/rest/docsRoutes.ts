import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Router from '@koa/router';
import type { AppState } from '../http/context.js';

/** Where the browsable page lives; the OpenAPI document it shows is at `OPENAPI_PATH`. */
export const DOCS_PATH = '/api/docs';
export const OPENAPI_PATH = '/api/openapi.json';

const swaggerUiDir = dirname(
  createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
);
const { version: SWAGGER_UI_VERSION } = JSON.parse(
  readFileSync(join(swaggerUiDir, 'package.json'), 'utf8'),
) as { version: string };

/**
 * The files the page loads, under a path that names swagger-ui's version (so browsers may keep
 * them for good): the two of swagger-ui-dist, shipped with the server, and the page's own script.
 */
export const DOCS_ASSETS_VERSION = SWAGGER_UI_VERSION;
export const DOCS_ASSETS_PATH = `${DOCS_PATH}/assets/${DOCS_ASSETS_VERSION}`;

/** What the page may load: its own files, the document, swagger-ui's inline styles and icons. */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>tickets: REST API</title>
    <link rel="stylesheet" href="${DOCS_ASSETS_PATH}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_ASSETS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_ASSETS_PATH}/docs.js"></script>
  </body>
</html>
`;

/** The page's own script: no inline script, so the CSP needs no 'unsafe-inline' for scripts. */
const SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
  });
});
`;

interface Asset {
  readonly type: string;
  /** Read on first use and kept: the bundle is about 1.5 MB. */
  body?: Buffer;
  readonly load: () => Buffer;
}

const fromPackage = (file: string, type: string): Asset => ({
  type,
  load: () => readFileSync(join(swaggerUiDir, file)),
});

export const DOCS_ASSETS: Readonly<Record<string, Asset>> = {
  'swagger-ui.css': fromPackage('swagger-ui.css', 'text/css; charset=utf-8'),
  'swagger-ui-bundle.js': fromPackage('swagger-ui-bundle.js', 'text/javascript; charset=utf-8'),
  'docs.js': { type: 'text/javascript; charset=utf-8', load: () => Buffer.from(SCRIPT) },
};

/**
 * `GET /api/docs`: a browsable page of the OpenAPI document, drawn by swagger-ui from files the
 * server ships (no CDN), under a Content-Security-Policy that allows nothing else.
 */
export function docsRoutes(): Router<AppState> {
  const router = new Router<AppState>();
  router.get(DOCS_PATH, async (ctx) => {
    ctx.set('Content-Security-Policy', DOCS_CSP);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = PAGE;
  });
  router.get(`${DOCS_PATH}/assets/:version/:file`, async (ctx, next) => {
    const { version, file } = ctx.params;
    const asset =
      file !== undefined && Object.hasOwn(DOCS_ASSETS, file) ? DOCS_ASSETS[file] : undefined;
    if (version !== DOCS_ASSETS_VERSION || asset === undefined) return next();
    asset.body ??= asset.load();
    ctx.set('Content-Security-Policy', DOCS_CSP);
    // The path names the version: a new server with another swagger-ui uses another path.
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.type = asset.type;
    ctx.body = asset.body;
  });
  return router;
}
