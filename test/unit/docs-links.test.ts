/**
 * The documentation holds together: every relative link in README.md and docs/*.md points at a file
 * that exists (and at a heading that exists, for `#anchor` links), and every document in docs/ is
 * reachable from the README.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DOCUMENTS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Markdown without fenced code blocks and inline code, where `[x](y)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The `(target)` of every inline link and image. */
function linksOf(markdown: string): string[] {
  return [...prose(markdown).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (m) => m[1] as string,
  );
}

/** GitHub's anchors for a document's headings: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of markdown
    .replace(/^(```|~~~)[\s\S]*?^\1/gm, '')
    .matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (heading as string)
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target);
}

describe('documentation links', () => {
  it.each(DOCUMENTS)('every relative link in %s resolves, anchors included', (document) => {
    const text = readFileSync(join(ROOT, document), 'utf8');
    const broken: string[] = [];
    for (const target of linksOf(text).filter(isRelative)) {
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? join(ROOT, document) : resolve(dirname(join(ROOT, document)), path);
      if (!file.startsWith(ROOT) || !existsSync(file)) {
        broken.push(`${target}: no file ${relative(ROOT, file)} in the repository`);
        continue;
      }
      if (anchor !== undefined && statSync(file).isFile() && file.endsWith('.md')) {
        if (!anchorsOf(readFileSync(file, 'utf8')).has(decodeURIComponent(anchor))) {
          broken.push(`${target}: no heading #${anchor} in ${relative(ROOT, file)}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('reaches every document in docs/ from the README', () => {
    const reached = new Set<string>();
    const queue = ['README.md'];
    while (queue.length > 0) {
      const document = queue.shift() as string;
      if (reached.has(document)) continue;
      reached.add(document);
      for (const target of linksOf(readFileSync(join(ROOT, document), 'utf8')).filter(isRelative)) {
        const path = target.split('#')[0] ?? '';
        if (!path.endsWith('.md')) continue;
        const file = relative(ROOT, resolve(dirname(join(ROOT, document)), path));
        if (existsSync(join(ROOT, file))) queue.push(file);
      }
    }
    expect(DOCUMENTS.filter((d) => !reached.has(d))).toEqual([]);
  });

  it('names no file outside the repository as where to read on', () => {
    for (const document of DOCUMENTS) {
      expect(readFileSync(join(ROOT, document), 'utf8'), document).not.toMatch(/\.\.\/shared\//);
    }
  });

  it('finds broken links and anchors (the checker itself)', () => {
    expect(linksOf('see [a](docs/a.md#x), `[b](c.md)` and\n```\n[d](e.md)\n```\n![i](p.png)')).toEqual([
      'docs/a.md#x',
      'p.png',
    ]);
    expect([...anchorsOf('# Which endpoint answers\n## `cortex watch`: live\n## Notes\n## Notes')]).toEqual([
      'which-endpoint-answers',
      'cortex-watch-live',
      'notes',
      'notes-1',
    ]);
  });
});
