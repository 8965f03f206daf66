/**
 * What a route of the table (lib/app/routes.ts) takes: the checks of its path parameters, the
 * schema of its query and of its JSON body. The shared dispatch (`httpHandler` in
 * functions/shared/http.ts) applies them in that order before the route's handler runs, so a bad
 * request is a 400 naming the field (through `toHttpError`) and the handler gets typed input.
 */
import type * as z from 'zod/mini';

/** A path parameter's check: the 400 is `invalid <what>` with `"<value>" is not <example>` under `field`. */
export interface PathParameterSpec {
  /** Absent: any value the route matched (the use case checks it, as the data API's keys). */
  readonly pattern?: RegExp;
  readonly field: string;
  /** How the message names it; default `field`. */
  readonly what?: string;
  readonly example: string;
}

/** A JSON body: a 400 `invalid <what>` naming each bad field. */
interface BodySpec<S extends z.ZodMiniType = z.ZodMiniType> {
  readonly schema: S;
  readonly what: string;
  /** An absent or empty body reads as `{}` instead of a 400. */
  readonly optional?: boolean;
}

export interface RequestSpec {
  readonly path?: Readonly<Record<string, PathParameterSpec>>;
  /** Parsed from the query parameters (none: `{}`); a 400 `invalid query` naming each one at fault. */
  readonly query?: z.ZodMiniType;
  readonly body?: BodySpec;
}

/** The input a route's handler gets from its spec: each part parsed, `undefined` where not declared. */
export interface RequestInput<S extends RequestSpec | undefined> {
  readonly path: S extends { readonly path: infer P } ? { readonly [N in keyof P]: string } : undefined;
  readonly query: S extends { readonly query: infer Q extends z.ZodMiniType } ? z.infer<Q> : undefined;
  readonly body: S extends { readonly body: BodySpec<infer B> } ? z.infer<B> : undefined;
}
