import { describe, expect, it } from 'vitest';
import { fieldPath } from './errors.js';

describe('fieldPath: the one style of field path in errors', () => {
  it.each<[readonly PropertyKey[], string]>([
    [[], ''],
    [['Title'], 'Title'],
    [['Tag', 0], 'Tag[0]'],
    [['Comments', 1], 'Comments[1]'],
    [['users', 0, 'email'], 'users[0].email'],
    [['resources', 2, 'admins', 1], 'resources[2].admins[1]'],
    [['If-Match'], '["If-Match"]'],
    [['headers', 'If-Match'], 'headers["If-Match"]'],
    [['a b', 0], '["a b"][0]'],
    [['x', 'quo"te'], 'x["quo\\"te"]'],
  ])('%j is %s', (path, expected) => {
    expect(fieldPath(path)).toBe(expected);
  });
});
