/**
 * The health concern's requests, strict (unknown parameters rejected): only the probe bundle takes
 * input. zod/mini keeps the bundle small.
 */
import * as z from 'zod/mini';
import { BUNDLE_TIMEOUT_RANGE_MS, BUNDLED_PATHS } from '../../core/health/probe-bundle.ts';

/** The bundled paths a `paths` parameter names: comma-separated, empty segments ignored. */
export function bundledPathsOf(paths: string): string[] {
  return paths.split(',').filter((path) => path !== '');
}

const { min, max } = BUNDLE_TIMEOUT_RANGE_MS;
const timeoutReason = `must be whole milliseconds from ${min} to ${max}`;

/** `GET /coordination/probe` query: which bundled paths, once each, and how long the caller waits. */
const probeBundleQuerySchema = z.strictObject({
  paths: z.string().check(
    z.refine((text) => bundledPathsOf(text).length > 0, `required: some of ${BUNDLED_PATHS.join(', ')}`),
    z.refine(
      (text) => bundledPathsOf(text).every((path) => BUNDLED_PATHS.includes(path)),
      `each must be one of ${BUNDLED_PATHS.join(', ')}`,
    ),
    z.refine((text) => {
      const paths = bundledPathsOf(text);
      return new Set(paths).size === paths.length;
    }, 'names a path twice'),
  ),
  timeout_ms: z.string().check(
    z.regex(/^\d{1,6}$/, timeoutReason),
    z.refine((text) => Number(text) >= min && Number(text) <= max, timeoutReason),
  ),
});

/** Each route's request (lib/app/routes.ts). */
export const HEALTH_REQUESTS = {
  'GET /coordination/probe': { query: probeBundleQuerySchema },
} as const;
