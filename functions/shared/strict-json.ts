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

/** What a single-character escape after a backslash stands for; `\u` is read apart. */
const ESCAPES = new Map([
  ['"', '"'],
  ['\\', '\\'],
  ['/', '/'],
  ['b', '\b'],
  ['f', '\f'],
  ['n', '\n'],
  ['r', '\r'],
  ['t', '\t'],
]);

/** A value that is not a container, or a container just opened (pushed on the stack). */
type Pending = { value: unknown; opened: boolean };

/** A request body as JSON, refusing repeated keys, numbers no double holds and nesting past maxDepth. */
export function parseStrictJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  return new StrictJsonReader(text, maxDepth).document();
}

/**
 * One pass over the text. Containers live on an explicit stack instead of the call stack, so
 * the depth guard, not the engine's stack size, decides how deep a document may go.
 */
class StrictJsonReader {
  private readonly text: string;
  private readonly maxDepth: number;
  private at = 0;
  private readonly stack: Container[] = [];

  constructor(text: string, maxDepth: number) {
    this.text = text;
    this.maxDepth = maxDepth;
  }

  /** The whole text as one JSON value, with nothing but whitespace after it. */
  document(): unknown {
    let pending = this.value();
    for (;;) {
      if (pending.opened) {
        if (this.firstMemberFollows()) {
          pending = this.value();
          continue;
        }
        this.at++;
        pending = { value: this.close(), opened: false };
      }
      const finished = this.settle(pending.value);
      if (finished) return this.end(finished.root);
      pending = this.value();
    }
  }

  /** Refuses anything but whitespace after the root value. */
  private end(root: unknown): unknown {
    this.skip();
    if (this.at < this.text.length) this.fail('unexpected text after the JSON value');
    return root;
  }

  /**
   * Puts a finished value into its parent and closes every container that ends right after it.
   * Answers the root once the outermost value is finished, or undefined when another member
   * follows (its key, in an object, already read).
   */
  private settle(finished: unknown): { root: unknown } | undefined {
    let value = finished;
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (!top) return { root: value };
      this.attach(top, value);
      this.skip();
      const char = this.text[this.at];
      if (char === ',') {
        this.at++;
        if (top.kind === 'object') this.nextKey(top, false);
        return undefined;
      }
      const closer = top.kind === 'object' ? '}' : ']';
      if (char === closer) {
        this.at++;
        value = this.close();
        continue;
      }
      this.fail(char === undefined ? 'unexpected end of JSON' : `expected ',' or '${closer}'`);
    }
  }

  /** Adds a member to the innermost open container. */
  private attach(top: Container, value: unknown): void {
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
  }

  /** A value that is not a container, or a container opened (pushed on the stack). */
  private value(): Pending {
    this.skip();
    const char = this.text[this.at];
    if (char === '{' || char === '[') {
      if (this.stack.length >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`);
      this.at++;
      this.stack.push(
        char === '{' ? { kind: 'object', value: {}, key: undefined } : { kind: 'array', value: [] },
      );
      return { value: undefined, opened: true };
    }
    if (char === '"') return { value: this.string(), opened: false };
    if (char === 't') return { value: this.literal('true', true), opened: false };
    if (char === 'f') return { value: this.literal('false', false), opened: false };
    if (char === 'n') return { value: this.literal('null', null), opened: false };
    if (char === undefined) return this.fail('unexpected end of JSON');
    return { value: this.number(), opened: false };
  }

  /** Right after a container opened: true when a member follows (an object's key read), false when it closes. */
  private firstMemberFollows(): boolean {
    const top = this.stack[this.stack.length - 1] as Container;
    if (top.kind === 'object') return this.nextKey(top, true);
    this.skip();
    return this.text[this.at] !== ']';
  }

  /** Reads the next key of the open object (after '{' or ','); false when it closes instead. */
  private nextKey(top: Extract<Container, { kind: 'object' }>, first: boolean): boolean {
    this.skip();
    if (first && this.text[this.at] === '}') return false;
    const key = this.string();
    if (Object.hasOwn(top.value, key)) {
      this.at--;
      this.fail(`duplicate key "${key.slice(0, 64)}"`);
    }
    this.skip();
    this.expect(':');
    top.key = key;
    return true;
  }

  /** Pops the innermost container, finished. */
  private close(): unknown {
    return (this.stack.pop() as Container).value;
  }

  /** A string, escapes decoded; unescaped runs are copied in one slice each. */
  private string(): string {
    this.expect('"');
    const { text } = this;
    let out = '';
    let start = this.at;
    for (;;) {
      if (this.at >= text.length) this.fail('unterminated string');
      const code = text.charCodeAt(this.at);
      if (code === 0x22) break;
      if (code < 0x20) this.fail('control character in string');
      if (code !== 0x5c) {
        this.at++;
        continue;
      }
      out += text.slice(start, this.at);
      out += this.escape();
      start = this.at;
    }
    out += text.slice(start, this.at);
    this.at++;
    return out;
  }

  /** The character an escape at the current backslash stands for; the position ends after it. */
  private escape(): string {
    const escaped = this.text[this.at + 1];
    this.at += 2;
    if (escaped === 'u') {
      const hex = this.text.slice(this.at, this.at + 4);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
      this.at += 4;
      return String.fromCharCode(Number.parseInt(hex, 16));
    }
    const decoded = escaped === undefined ? undefined : ESCAPES.get(escaped);
    if (decoded === undefined) {
      this.at -= 2;
      this.fail('bad escape');
    }
    return decoded as string;
  }

  /** A number that fits a double: `1e309` would become Infinity, which JSON cannot write back. */
  private number(): number {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) return this.fail('unexpected character');
    const value = Number(match[0]);
    if (!Number.isFinite(value)) this.fail(`number ${match[0].slice(0, 40)} is out of range`);
    this.at = NUMBER.lastIndex;
    return value;
  }

  /** `true`, `false` or `null`, spelled out in full. */
  private literal(word: string, value: unknown): unknown {
    if (this.text.startsWith(word, this.at)) {
      this.at += word.length;
      return value;
    }
    return this.fail('unexpected character');
  }

  /** Consumes one expected character. */
  private expect(char: string): void {
    if (this.text[this.at] !== char) {
      this.fail(this.at >= this.text.length ? `expected '${char}', got the end` : `expected '${char}'`);
    }
    this.at++;
  }

  /** Skips JSON whitespace (space, tab, line feed, carriage return, nothing else). */
  private skip(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.test(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  /** Stops the read with the reason and the current position. */
  private fail(message: string): never {
    throw new JsonSyntaxError(message, this.at);
  }
}
