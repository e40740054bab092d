// Shrinks the package after wasm-bindgen, keeping its behaviour:
//
// 1. renames the wasm's imports and exports to short names with the mapping
//    that `wasm-opt --minify-imports-and-exports-and-modules` printed: the
//    generated names (`__wbg_fetch_<16 hex digits>`, ...) are incompressible
//    and appeared twice, in the wasm and in the glue;
// 2. minifies the JS glue with esbuild (the doc comments and long local
//    names; the TypeScript declarations stay in the .d.ts).
//
// Usage: node shrink-glue.mjs GLUE.js MAP.json
// (GLUE.d.ts and the wasm's _bg.wasm.d.ts beside it are updated to match.)
// Fails loudly if the glue does not have the shape this script knows, so a
// wasm-bindgen upgrade cannot silently produce a package that does not link.
import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [glueFile, mapFile] = process.argv.slice(2);
const glueDtsFile = glueFile.replace(/\.js$/, '.d.ts');
const wasmDtsFile = glueFile.replace(/\.js$/, '_bg.wasm.d.ts');
const map = JSON.parse(readFileSync(mapFile, 'utf8'));
let glue = readFileSync(glueFile, 'utf8');
let glueDts = readFileSync(glueDtsFile, 'utf8');
let wasmDts = readFileSync(wasmDtsFile, 'utf8');

const die = (msg) => {
  console.error(`shrink-glue: ${msg}`);
  process.exit(1);
};
const escape = (s) => s.replace(/[$.*+?^()[\]{}|\\/]/g, '\\$&');
const count = (text, re) => (text.match(re) ?? []).length;

// Imports: one module (the glue itself), every import defined once as a
// `name: function(` property of the imports object.
const modules = new Set(map.imports.map(([module]) => module));
if (modules.size !== 1) die(`expected one import module, got ${[...modules].join(', ')}`);
const [module] = modules;
const moduleKey = new RegExp(`\\n(\\s*)${escape(JSON.stringify(module))}: import0,`);
if (!moduleKey.test(glue)) die(`imports object for ${module} not found`);
// `-and-modules` renames the module to "a".
glue = glue.replace(moduleKey, (_, indent) => `\n${indent}a: import0,`);
for (const [, name, short] of map.imports) {
  const def = new RegExp(`(\\n\\s*)${escape(name)}(: function\\()`, 'g');
  const n = count(glue, def);
  if (n !== 1) die(`import ${name}: ${n} definitions in the glue`);
  glue = glue.replace(def, (_, before, after) => before + short + after);
}

// Exports: used in the glue as `wasm.name` (a few, e.g. `__abort_handler`,
// not at all), declared as `export const name:` in the wasm's .d.ts and as
// `readonly name:` in the glue's `InitOutput`.
for (const [name, short] of map.exports) {
  const use = new RegExp(`\\bwasm\\.${escape(name)}\\b`, 'g');
  glue = glue.replace(use, () => `wasm.${short}`);
  const decl = new RegExp(`(export const |readonly )${escape(name)}:`, 'g');
  wasmDts = wasmDts.replace(decl, (_, before) => `${before}${short}:`);
  glueDts = glueDts.replace(decl, (_, before) => `${before}${short}:`);
}
const leftover = glue.match(/\bwasm\.(__wbg|__wbindgen|wasm_bindgen__|recoverystore)\w*/);
if (leftover) die(`${leftover[0]} was not renamed`);

// The first line names the .d.ts for Deno; esbuild would drop it.
const banner = glue.match(/^\/\* @ts-self-types="[^"]+" \*\//)?.[0] ?? '';
const esbuild = fileURLToPath(new URL('../node_modules/.bin/esbuild', import.meta.url));
const minified = execFileSync(esbuild, ['--minify', '--format=esm', '--log-level=warning', '--loader=js', `--banner=${banner}`], {
  input: glue,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
});
writeFileSync(glueFile, minified);
writeFileSync(glueDtsFile, glueDts);
writeFileSync(wasmDtsFile, wasmDts);
