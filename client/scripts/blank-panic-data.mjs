// Zeroes what a panic hands its handler, in the data of the wasm's text form
// (wasm-dis), before wasm-opt. The package's panic handler traps without
// reading any of it (src/runtime.rs); in a release build nothing else does
// (wasm-bindgen and Talc read `Location::caller()` with debug assertions
// only). The code that passes it stays as it is: a panic still traps where
// it did.
//
// 1. Every `core::panic::Location` (file: &str, line, column: 16 bytes) and
//    the source path it names ("client/src/store/chunks.rs",
//    "/rustc/…/library/core/src/cell/lazy.rs", a dependency's path under
//    ~/.cargo/registry). Every bounds check, `RefCell` borrow, `unwrap` and
//    async state machine passes one. Zeroed, the 150 or so records and 1 KB
//    of paths cost nothing compressed (about 0.9 KB gzip). A record is
//    recognised by its shape alone: a pointer and a length that name a
//    printable string ending in ".rs" within the data, then a line and a
//    column in range.
// 2. The messages of core's and alloc's own panics (`PANIC_MESSAGES`: a
//    bounds check, a `RefCell` borrow, `unreachable!`, a poisoned
//    `LazyCell`, a vector's capacity), and the two-digit table of the
//    integer formatters, which only the stubbed formatters read
//    (stub-panic-fmt.mjs runs first). Matched as exact text: none of it is
//    a message of this crate's, or one wasm-bindgen throws to JavaScript
//    ("closure invoked recursively…", `unwrap_throw`'s), which stay. About
//    0.3 KB gzip.
//
// Warns and changes nothing for a part it does not find (a new Rust may lay
// them out or word them differently: the package is larger, still correct).
//
// Usage: node blank-panic-data.mjs MODULE.wat
import { readFileSync, writeFileSync } from 'node:fs';

const [file] = process.argv.slice(2);
const lines = readFileSync(file, 'utf8').split('\n');
const segmentLine = /^ \(data (\$\S+ )?\(i32\.const (\d+)\) "(.*)"\)$/;
const named = { t: 9, n: 10, r: 13, '\\': 92, '"': 34, "'": 39 };

const decode = (text) => {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') {
      out.push(text.charCodeAt(i));
    } else if (text[i + 1] in named) {
      out.push(named[text[++i]]);
    } else {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    }
  }
  return Uint8Array.from(out);
};
const printable = (b) => b >= 0x20 && b < 0x7f;
const encode = (bytes) =>
  Array.from(bytes, (b) =>
    printable(b) && b !== 0x22 && b !== 0x27 && b !== 0x5c
      ? String.fromCharCode(b)
      : `\\${b.toString(16).padStart(2, '0')}`,
  ).join('');

const segments = [];
lines.forEach((line, index) => {
  const m = line.match(segmentLine);
  if (m) segments.push({ index, name: m[1] ?? '', base: Number(m[2]), bytes: decode(m[3]) });
});
/** The segment and offset holding `len` bytes at `addr`, or null. */
const locate = (addr, len) => {
  const s = segments.find((s) => addr >= s.base && addr + len <= s.base + s.bytes.length);
  return s ? { s, at: addr - s.base } : null;
};
const u32 = (bytes, at) =>
  (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;

const records = [];
const paths = new Map();
for (const s of segments) {
  for (let at = (4 - (s.base % 4)) % 4; at + 16 <= s.bytes.length; at += 4) {
    const [ptr, len, line, column] = [0, 4, 8, 12].map((o) => u32(s.bytes, at + o));
    if (len < 4 || len > 512 || line < 1 || line > 1_000_000 || column < 1 || column > 10_000) continue;
    const target = locate(ptr, len);
    if (!target) continue;
    const path = target.s.bytes.subarray(target.at, target.at + len);
    if (!path.every(printable) || !Buffer.from(path).toString('latin1').endsWith('.rs')) continue;
    records.push({ s, at });
    paths.set(ptr, { target, len });
  }
}
if (records.length === 0) console.error('blank-panic-data: warning: no panic locations found, the package is larger');
for (const { s, at } of records) s.bytes.fill(0, at, at + 16);
for (const { target, len } of paths.values()) target.s.bytes.fill(0, target.at, target.at + len);

const PANIC_MESSAGES = [
  'index out of bounds: the len is ',
  ' but the index is ',
  'RefCell already borrowed',
  'RefCell already mutably borrowed',
  'internal error: entered unreachable code',
  '`async fn` resumed after completion',
  'LazyCell instance has previously been poisoned',
  'capacity overflow',
  'Tried to shrink to a larger capacity',
  'memory allocation of ',
  Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0')).join(''),
];
let messages = 0;
for (const text of PANIC_MESSAGES) {
  const bytes = Buffer.from(text, 'latin1');
  let found = 0;
  for (const s of segments) {
    const data = Buffer.from(s.bytes.buffer, s.bytes.byteOffset, s.bytes.length);
    for (let at = data.indexOf(bytes); at >= 0; at = data.indexOf(bytes, at + bytes.length)) {
      data.fill(0, at, at + bytes.length);
      found++;
    }
  }
  if (found === 0) console.error(`blank-panic-data: warning: ${JSON.stringify(text.slice(0, 40))} not found`);
  messages += found;
}
for (const s of segments) {
  lines[s.index] = ` (data ${s.name}(i32.const ${s.base}) "${encode(s.bytes)}")`;
}
console.error(`blank-panic-data: ${records.length} locations, ${paths.size} paths, ${messages} messages zeroed`);
writeFileSync(file, lines.join('\n'));
