/** The ten request media types of the action endpoint (CONTRACT §3), each JSON or XML. */
export const BODY_MEDIA_TYPES: ReadonlyMap<string, 'json' | 'xml'> = new Map<
  string,
  'json' | 'xml'
>(
  [
    'application',
    'application/vnd.soa.v71',
    'application/vnd.soa.v72',
    'application/vnd.soa.v80',
    'application/vnd.soa.v81',
  ].flatMap((prefix) =>
    prefix === 'application'
      ? [
          ['application/json', 'json'],
          ['application/xml', 'xml'],
        ]
      : [
          [`${prefix}+json`, 'json'],
          [`${prefix}+xml`, 'xml'],
        ],
  ),
);

/** Media types a JSON-returning operation can answer in, in order of preference. */
export const RESPONSE_MEDIA_TYPES: readonly string[] = [...BODY_MEDIA_TYPES.keys()];

export const formatOf = (mediaType: string): 'json' | 'xml' =>
  BODY_MEDIA_TYPES.get(mediaType) ?? 'json';

export const PROBLEM_JSON = 'application/problem+json';
export const TEXT_PLAIN = 'text/plain; charset=utf-8';
