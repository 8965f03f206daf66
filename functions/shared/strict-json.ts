/**
 * A JSON parser for request bodies that refuses what JSON.parse lets through: a key repeated in one
 * object (JSON.parse keeps the last one silently, so a validator and a later reader could see
 * different values), numbers that do not fit a double (`1e309` becomes Infinity, which JSON cannot
 * write back), and nesting deeper than DynamoDB's 32 levels (JSON.parse recurses until the stack
 * overflows, a 500). Iterative, so no input can exhaust the stack. Otherwise RFC 8259, as JSON.parse.
 */

/** DynamoDB's limit for nested attributes: nothing deeper could be stored anyway. */
export const MAX_JSON_DEPTH = 32;

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  /** Offset in the text (UTF-16 code units). */
  readonly position: number;

  constructor(message: string, position: number) {
    super(`${message} at position ${position}`);
    this.position = position;
  }
}

type Container =
  | { kind: 'object'; value: Record<string, unknown>; key: string | undefined }
  | {
      kind: 'array';
      value: unknown[];
    };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  let at = 0;
  const stack: Container[] = [];
  const skip = () => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.test(text);
    at = WHITESPACE.lastIndex;
  };
  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, at);
  };
  const expect = (char: string) => {
    if (text[at] !== char) fail(at >= text.length ? `expected '${char}', got the end` : `expected '${char}'`);
    at++;
  };

  const parseString = (): string => {
    expect('"');
    let out = '';
    let start = at;
    for (;;) {
      if (at >= text.length) fail('unterminated string');
      const code = text.charCodeAt(at);
      if (code === 0x22) break;
      if (code < 0x20) fail('control character in string');
      if (code !== 0x5c) {
        at++;
        continue;
      }
      out += text.slice(start, at);
      const escaped = text[at + 1];
      at += 2;
      switch (escaped) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(at, at + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(Number.parseInt(hex, 16));
          at += 4;
          break;
        }
        default:
          at -= 2;
          fail('bad escape');
      }
      start = at;
    }
    out += text.slice(start, at);
    at++;
    return out;
  };

  const parseNumber = (): number => {
    NUMBER.lastIndex = at;
    const match = NUMBER.exec(text);
    if (!match) return fail('unexpected character');
    const value = Number(match[0]);
    if (!Number.isFinite(value)) fail(`number ${match[0].slice(0, 40)} is out of range`);
    at = NUMBER.lastIndex;
    return value;
  };

  const literal = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, at)) {
      at += word.length;
      return value;
    }
    return fail('unexpected character');
  };

  /** A value that is not a container, or a container opened (pushed on the stack). */
  const parseValue = (): { value: unknown; opened: boolean } => {
    skip();
    const char = text[at];
    if (char === '{' || char === '[') {
      if (stack.length >= maxDepth) fail(`nesting deeper than ${maxDepth} levels`);
      at++;
      stack.push(char === '{' ? { kind: 'object', value: {}, key: undefined } : { kind: 'array', value: [] });
      return { value: undefined, opened: true };
    }
    if (char === '"') return { value: parseString(), opened: false };
    if (char === 't') return { value: literal('true', true), opened: false };
    if (char === 'f') return { value: literal('false', false), opened: false };
    if (char === 'n') return { value: literal('null', null), opened: false };
    if (char === undefined) return fail('unexpected end of JSON');
    return { value: parseNumber(), opened: false };
  };

  /** Reads the next key of the open object (after '{' or ','); false when it closes instead. */
  const nextKey = (top: Extract<Container, { kind: 'object' }>, first: boolean): boolean => {
    skip();
    if (first && text[at] === '}') return false;
    const key = parseString();
    if (Object.hasOwn(top.value, key)) {
      at--;
      fail(`duplicate key "${key.slice(0, 64)}"`);
    }
    skip();
    expect(':');
    top.key = key;
    return true;
  };

  let root: unknown;
  let done = false;
  let pending = parseValue();
  for (;;) {
    if (pending.opened) {
      const top = stack[stack.length - 1] as Container;
      // A container just opened: its first member, or its end.
      if (top.kind === 'object' ? nextKey(top, true) : arrayGoesOn()) {
        pending = parseValue();
        continue;
      }
      at++;
      pending = { value: close(), opened: false };
    }
    // A finished value: into its parent, or it is the root.
    let value = pending.value;
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) {
        root = value;
        done = true;
        break;
      }
      if (top.kind === 'array') top.value.push(value);
      else if (top.key === '__proto__') {
        // An own property, as JSON.parse makes it: assigning would set the object's prototype.
        Object.defineProperty(top.value, top.key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else top.value[top.key as string] = value;
      skip();
      const char = text[at];
      if (char === ',') {
        at++;
        if (top.kind === 'object') nextKey(top, false);
        break;
      }
      if (char === (top.kind === 'object' ? '}' : ']')) {
        at++;
        value = close();
        continue;
      }
      fail(
        char === undefined
          ? 'unexpected end of JSON'
          : `expected ',' or '${top.kind === 'object' ? '}' : ']'}'`,
      );
    }
    if (done) break;
    pending = parseValue();
  }
  skip();
  if (at < text.length) fail('unexpected text after the JSON value');
  return root;

  function close(): unknown {
    return (stack.pop() as Container).value;
  }

  function arrayGoesOn(): boolean {
    skip();
    return text[at] !== ']';
  }
}
