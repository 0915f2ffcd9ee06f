import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOCS, renderConfigurationDocs } from '../../scripts/config-docs.ts';
import { VARIABLES } from '../../src/config/variables.ts';

describe('docs/configuration.md', () => {
  it('is what `npm run config:docs` writes from the declarations (run it when this fails)', () => {
    expect(readFileSync(CONFIGURATION_DOCS, 'utf8')).toBe(renderConfigurationDocs());
  });

  it('has one row for every declared variable, under its group', () => {
    const docs = renderConfigurationDocs();
    for (const [name, variable] of Object.entries(VARIABLES)) {
      const row = docs.split('\n').filter((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, name).toHaveLength(1);
      const heading = docs.lastIndexOf('\n## ', docs.indexOf(row[0] ?? ''));
      expect(docs.slice(heading + 4, docs.indexOf('\n', heading + 1)), name).toBe(variable.group);
    }
  });

  it('shows defaults, bounds and choices as declared, and never a secret', () => {
    const docs = renderConfigurationDocs();
    expect(docs).toContain('| `PORT` | `4000` | 0–65535 |');
    expect(docs).toContain('| `MAX_RESPONSE_BYTES` | `8388608` (8 MiB) | 1024–268435456 bytes |');
    expect(docs).toContain('| `LOG_LEVEL` | `info` | `silent`, `error`, `warn`, `info`, `debug` |');
    expect(docs).toContain('| `REDIS_URL` | unset | `redis://`, `rediss://` |');
    expect(docs).toContain('| `OPENAI_API_KEY` | unset | secret |');
  });
});
