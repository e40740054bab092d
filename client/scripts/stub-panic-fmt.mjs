// Replaces the bodies of the panic-message formatters with `unreachable`, in
// the text form of the wasm (wasm-dis), before wasm-opt:
//
//   <u32 as Display>::fmt                (alloc's "memory allocation of {} bytes failed")
//   <BorrowError as Display>::fmt, <BorrowMutError as Display>::fmt (RefCell's panics)
//
// The package's panic handler traps without formatting (src/runtime.rs), so
// nothing calls them: their addresses only sit in the arguments a panic
// builds. But the function table is exported to the glue (closures are called
// through it), so wasm-opt must keep every function in it, and with these
// three it kept `Formatter::pad`, `pad_integral` and the rest (about 1 KB
// gzip). Stubbed, they are empty and what only they used goes.
//
// Refuses (exits 1) if the module can format after all (`core::fmt::write`
// present) or calls one of them directly; warns and changes nothing when a
// name is not found (a new Rust may name or inline them differently).
//
// Usage: node stub-panic-fmt.mjs MODULE.wat
import { readFileSync, writeFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
const lines = readFileSync(file, 'utf8').split('\n');
const die = (msg) => {
  console.error(`stub-panic-fmt: ${msg}`);
  process.exit(1);
};

const formatter =
  /^ \(func (\$"<(?:u32|core\[[0-9a-f]+\]::cell::Borrow(?:Mut)?Error) as core\[[0-9a-f]+\]::fmt::Display>::fmt") \(param \$0 i32\) \(param \$1 i32\) \(result i32\)$/;

if (lines.some((l) => /^ \(func \$"?core(\[[0-9a-f]+\])?::fmt::write\b/.test(l))) {
  die('core::fmt::write is in the module: something formats, the formatters are live');
}
const names = lines.map((l) => l.match(formatter)?.[1]).filter(Boolean);
for (const name of names) {
  if (lines.some((l) => l.includes(`call ${name}`))) die(`${name} is called directly`);
}

const out = [];
for (let i = 0; i < lines.length; i++) {
  out.push(lines[i]);
  if (!formatter.test(lines[i])) continue;
  // The body runs to the function's closing parenthesis at one space.
  while (lines[i + 1] !== ' )') {
    i++;
    if (i >= lines.length) die('unterminated function');
  }
  out.push('  (unreachable)');
}
if (names.length !== 3) {
  console.error(`stub-panic-fmt: warning: ${names.length} of 3 formatters found, the package is larger`);
}
writeFileSync(file, out.join('\n'));
