/**
 * `JSON.parse` for a provisioning file, whose syntax errors name the line and column (Node 20
 * says only "at position 2"). A leading byte order mark is ignored.
 */
export function parseJsonFile(text: string): unknown {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(source) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    const at = /at position (\d+)/.exec(message);
    const position = at
      ? Number(at[1])
      : /end of JSON input/.test(message)
        ? source.length
        : errorOffset(source);
    const before = source.slice(0, position).split('\n');
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    const reason = message
      .replace(/\s*(?:in|after) JSON at position \d+.*$/s, '')
      // V8 quotes the text around the error: it may hold a password, so it is left out.
      .replace(/, ".*" is not valid JSON$/s, '')
      .replace(/\s*\(line \d+ column \d+\)$/, '');
    throw new SyntaxError(`JSON syntax error at line ${line}, column ${column}: ${reason}`, {
      cause: error,
    });
  }
}

/**
 * Where JSON.parse gives up, for the messages that carry no position ("Unexpected token 'x',
 * ... is not valid JSON"): the shortest prefix of the text that fails for another reason than
 * ending too soon ends with the offending character.
 */
function errorOffset(source: string): number {
  const endsTooSoon = (length: number): boolean => {
    try {
      JSON.parse(source.slice(0, length));
      return true;
    } catch (error) {
      const message = (error as Error).message;
      // Some messages say the text ended ("Expected ':' after property name ... at position N",
      // N being the prefix's length); only an error before the end is the one sought.
      return (
        /end of JSON input/.test(message) ||
        Number(/at position (\d+)/.exec(message)?.[1]) === length
      );
    }
  };
  let low = 0;
  let high = source.length;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (endsTooSoon(middle)) low = middle + 1;
    else high = middle;
  }
  return Math.max(0, low - 1);
}
