import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README is the five-minute start; everything else lives in docs/. These checks keep it that way.
const root = resolve(import.meta.dirname, '..');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The targets of the Markdown links and images in `text` that point at files of this repository. */
function relativeLinks(text: string): string[] {
  const withoutCode = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#'))
    .map((target) => decodeURIComponent(target.split('#')[0] ?? ''));
}

/** Words that tell the history of the code instead of describing it. */
const historyMarker = /\b(run \d+|issue \d+|this round|this session|last session)\b/i;

describe('the documentation', () => {
  it('keeps README.md within 12 KB', () => {
    expect(statSync(join(root, 'README.md')).size).toBeLessThanOrEqual(12 * 1024);
  });

  it('finds the links it checks', () => {
    expect(relativeLinks('See [the index](docs/README.md#top), [a site](https://x.dev), `[no](x.md)`.')).toEqual([
      'docs/README.md',
    ]);
    expect(relativeLinks(readFileSync(join(root, 'README.md'), 'utf8'))).toContain('docs/README.md');
  });

  it.each(pages)('%s links only to files that exist', (page) => {
    const text = readFileSync(join(root, page), 'utf8');
    const missing = relativeLinks(text).filter((target) => !existsSync(resolve(root, dirname(page), target)));
    expect(missing).toEqual([]);
  });

  it.each(pages)('%s describes the system as it is, without history', (page) => {
    const lines = readFileSync(join(root, page), 'utf8').split('\n');
    const marked = lines.flatMap((line, index) => (historyMarker.test(line) ? [`${index + 1}: ${line}`] : []));
    expect(marked).toEqual([]);
  });

  it('recognises history markers', () => {
    expect(
      ['as of run 11', 'issue 12, option 2', 'this round', 'Last session'].every((s) => historyMarker.test(s)),
    ).toBe(true);
    expect(historyMarker.test('Measured 2026-11-25 on 2 cores; runs on Node 20')).toBe(false);
  });
});
