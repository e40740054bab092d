// The READMEs' code is cut from code that check-react.sh type-checks and builds. A snippet says
// where it was cut from with a comment on the line before its fence (hidden when rendered):
//
//   <!-- snippet: test-js/tarball-app/src/main.tsx -->
//   ```tsx
//
// (the path relative to the README). Each code line of the snippet, trimmed (blank lines and
// whole-line `//` comments left out), must be a line of that file, and in the same order, so a
// snippet that drifts from the code it shows fails. Every ```tsx block must carry a marker, so a
// snippet cannot escape the check by losing it; after `--all`, every js, ts and tsx block of the
// READMEs that follow (the package's guide). Usage: node readme-snippets.mjs [--all] README.md...
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const MARKER = /^<!--\s*snippet:\s*(\S+)\s*-->\s*$/;
const FENCE = /^\s*```(\S*)\s*$/;

/** The fenced blocks of a README: language, first line number, code lines, and the marker's path. */
function blocks(text) {
  const lines = text.split('\n');
  const found = [];
  let marker = null;
  for (let i = 0; i < lines.length; i++) {
    const mark = MARKER.exec(lines[i]);
    if (mark) {
      marker = { path: mark[1], line: i + 1 };
      continue;
    }
    const fence = FENCE.exec(lines[i]);
    if (!fence) {
      if (lines[i].trim() && marker) throw new Error(`line ${marker.line}: a snippet marker must be followed by a fenced block`);
      continue;
    }
    const start = i + 1;
    const code = [];
    for (i++; i < lines.length && !FENCE.test(lines[i]); i++) code.push(lines[i]);
    found.push({ lang: fence[1], start, code, path: marker?.path ?? null });
    marker = null;
  }
  return found;
}

const problems = [];
let every = false;
for (const readme of process.argv.slice(2)) {
  if (readme === '--all') {
    every = true;
    continue;
  }
  const mustMark = every ? ['js', 'ts', 'tsx'] : ['tsx'];
  const name = relative(process.cwd(), readme) || readme;
  let checked = 0;
  let lines = 0;
  for (const block of blocks(readFileSync(readme, 'utf8'))) {
    if (!block.path) {
      if (mustMark.includes(block.lang)) problems.push(`${name}:${block.start}: a ${block.lang} block without a snippet marker`);
      continue;
    }
    const source = readFileSync(resolve(dirname(readme), block.path), 'utf8').split('\n').map((l) => l.trim());
    const want = block.code.map((l) => l.trim()).filter((l) => l && !l.startsWith('//'));
    if (!want.length) problems.push(`${name}:${block.start}: an empty snippet`);
    let at = 0;
    for (const line of want) {
      const found = source.indexOf(line, at);
      if (found < 0) {
        const anywhere = source.includes(line) ? ' (it is there, but not in this order)' : '';
        problems.push(`${name}:${block.start}: not in ${block.path}${anywhere}: ${line}`);
        continue;
      }
      at = found + 1;
    }
    checked++;
    lines += want.length;
  }
  console.log(`${name}: ${checked} snippet(s), ${lines} code lines checked against their sources`);
}
if (problems.length) {
  console.error(`README snippets that drifted from their code:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
