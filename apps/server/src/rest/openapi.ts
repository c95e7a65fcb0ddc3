/** The OpenAPI 3.1 description of the REST surface (being written). */
export const openApiDocument = { openapi: '3.1.0', info: { title: 'Tickets API', version: '0.1.0' }, paths: {} };
