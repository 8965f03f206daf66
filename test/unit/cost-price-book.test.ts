/**
 * The price book's assumptions name the jobs and concerns the stacks deploy: a renamed or new
 * scheduled job cannot fall back to the default run without anyone noticing.
 */
import { describe, expect, it } from 'vitest';
import { CONCERNS } from '../../lib/app/routes.ts';
import { PRICE_BOOK } from '../../lib/core/cost/price-book.ts';
import { BACKGROUND_JOBS, MESH_JOBS } from '../../lib/infra/handler-function.ts';

const NAMES = new Set<string>([...CONCERNS, ...BACKGROUND_JOBS, ...MESH_JOBS, 'witness-probe']);

describe('the price book', () => {
  it('names only jobs and concerns that exist', () => {
    for (const key of Object.keys(PRICE_BOOK.assumptions.runs)) {
      expect(NAMES, key).toContain(key.split(':')[0]);
    }
  });

  it('has a named run for every background job (the mesh jobs too) and the witness probe', () => {
    for (const job of [...BACKGROUND_JOBS, ...MESH_JOBS, 'witness-probe']) {
      expect(Object.keys(PRICE_BOOK.assumptions.runs), job).toContain(job);
    }
  });

  it('is dated, names its sources, and prices nothing at a negative or missing figure', () => {
    expect(PRICE_BOOK.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(PRICE_BOOK.sources.length).toBeGreaterThan(5);
    const walk = (value: unknown, path: string): void => {
      if (typeof value === 'number') expect(value >= 0 && Number.isFinite(value), path).toBe(true);
      else if (value && typeof value === 'object')
        for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
    };
    walk(PRICE_BOOK.prices, 'prices');
  });
});
