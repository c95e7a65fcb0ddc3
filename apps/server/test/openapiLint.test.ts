// The OpenAPI document passes a real linter: Redocly's `recommended` rule set, with no error and
// no warning (the document readers and code generators meet is the one served).
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/rest/openapi.js';

describe('the OpenAPI document, linted', () => {
  it("has no problem under Redocly's recommended rules", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({
      source: JSON.stringify(openApiDocument),
      absoluteRef: 'openapi.json',
      config,
    });
    const described = problems.map(
      (problem) =>
        `${problem.severity} ${problem.ruleId} at ${problem.location[0]?.pointer ?? '?'}: ${problem.message}`,
    );
    expect(described).toEqual([]);
  });

  it('catches what it is there to catch (a string example under an object schema)', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const broken = structuredClone(openApiDocument) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    };
    const media = broken.paths['/api/tickets']!['post']!.requestBody!.content as Record<
      string,
      { examples: { example: { value: unknown } } }
    >;
    media['application/xml']!.examples.example.value = '<Ticket/>';
    const problems = await lintFromString({
      source: JSON.stringify(broken),
      absoluteRef: 'openapi.json',
      config,
    });
    expect(problems.map((problem) => problem.ruleId)).toContain('no-invalid-media-type-examples');
  });
});
