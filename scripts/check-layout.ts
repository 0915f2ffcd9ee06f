import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layout's rules, checked on src/: no folder imports a sibling folder that imports it back (at
 * every level), no source file over
 * `MAX_FILE_LINES` lines, no function over `MAX_FUNCTION_LINES` lines. `npm run check:layout`
 * prints what breaks them; test/layout.test.ts fails on it.
 */
export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 120;

const root = fileURLToPath(new URL('../', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    if (match[1]) found.push(resolve(dirname(file), match[1]));
  }
  return found;
}

/** The two sides of an import seen from the folder level where they part: `a/b/x.ts` -> `a/c/y.ts` is `a/b` -> `a/c`. */
function partingPair(from: string, to: string): [string, string] | undefined {
  const a = from.split(sep);
  const b = to.split(sep);
  let i = 0;
  while (i < a.length - 1 && i < b.length - 1 && a[i] === b[i]) i += 1;
  // A file of the common folder itself (a wiring point such as app.ts, or a leaf such as errors.ts)
  // is not a folder: only two sibling folders can form a folder cycle.
  if (i >= a.length - 1 || i >= b.length - 1) return undefined;
  return [a.slice(0, i + 1).join(sep), b.slice(0, i + 1).join(sep)];
}

export function folderCycles(srcDir = join(root, 'src')): string[] {
  const edges = new Map<string, string>();
  for (const file of sourceFiles(srcDir)) {
    for (const target of relativeImports(file)) {
      const pair = partingPair(relative(srcDir, file), relative(srcDir, target));
      if (pair) edges.set(`${pair[0]} -> ${pair[1]}`, `${relative(srcDir, file)} -> ${relative(srcDir, target)}`);
    }
  }
  const cycles: string[] = [];
  for (const [edge, example] of edges) {
    const [a, b] = edge.split(' -> ') as [string, string];
    const back = edges.get(`${b} -> ${a}`);
    if (back && a < b) cycles.push(`${a} <-> ${b} (${example}; ${back})`);
  }
  return cycles;
}

export function longFiles(srcDir = join(root, 'src')): string[] {
  return sourceFiles(srcDir)
    .map((file) => ({ file, lines: readFileSync(file, 'utf8').split('\n').length }))
    .filter(({ lines }) => lines > MAX_FILE_LINES)
    .map(({ file, lines }) => `${relative(root, file)}: ${lines} lines`);
}

export function longFunctions(srcDir = join(root, 'src')): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(srcDir)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const lines = end - start + 1;
        if (lines > MAX_FUNCTION_LINES) {
          const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
          found.push(`${relative(root, file)}:${start + 1} ${name}: ${lines} lines`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const problems = [...folderCycles(), ...longFiles(), ...longFunctions()];
  for (const line of problems) console.log(line);
  process.exitCode = problems.length ? 1 : 0;
}
