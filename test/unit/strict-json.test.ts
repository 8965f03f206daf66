import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonSyntaxError, MAX_JSON_DEPTH, parseStrictJson } from '../../functions/shared/strict-json.ts';

const parses = (text: string): boolean => {
  try {
    parseStrictJson(text);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(JsonSyntaxError);
    return false;
  }
};

describe('the strict JSON parser of request bodies', () => {
  it('reads every JSON document as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.boolean(), (value, pretty) => {
        const text = JSON.stringify(value, null, pretty ? 2 : 0);
        expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      }),
      { numRuns: 2_000 },
    );
    for (const text of ['"\\u00e9\\n\\/"', ' [1, -0.5e3, true, null] ', '{}', '[]', '0', '-0.0e+1']) {
      expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    }
  });

  it('keeps "__proto__" as data, as JSON.parse does', () => {
    const parsed = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses whatever JSON.parse refuses', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        if (!valid) expect(parses(text)).toBe(false);
      }),
      { numRuns: 5_000 },
    );
  });

  it('refuses a key repeated in one object, a number beyond a double, and nesting beyond 32 levels', () => {
    expect(() => parseStrictJson('{"a":1,"b":{"c":1,"c":2}}')).toThrow(/duplicate key "c"/);
    expect(() => parseStrictJson('{"value":{"n":1e309}}')).toThrow(/out of range/);
    expect(() => parseStrictJson('-1e400')).toThrow(/out of range/);
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(parseStrictJson(deep(MAX_JSON_DEPTH))).toBeDefined();
    expect(() => parseStrictJson(deep(MAX_JSON_DEPTH + 1))).toThrow(/nesting deeper than 32/);
    // Never a stack overflow, however deep.
    expect(() => parseStrictJson(`{"a":${'['.repeat(1_000_000)}`)).toThrow(/nesting/);
  });

  it('names the position of the mistake', () => {
    expect(() => parseStrictJson('[1,]')).toThrow(/at position 3/);
  });
});
