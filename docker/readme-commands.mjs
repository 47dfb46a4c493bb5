#!/usr/bin/env node
// Prints command N (1 or 2) of README.md's "Two commands" section: the
// shell blocks there, read from the README itself, so that what the
// container test runs is exactly what a person is told to paste.
import { readFileSync } from 'node:fs';

const n = Number(process.argv[2]);
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = /^## Two commands[^\n]*\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1].trim());
if (blocks.length !== 2 || blocks.some((b) => b.includes('\n')) || !(n === 1 || n === 2)) {
  console.error(`readme-commands: expected two one-line sh blocks under "## Two commands" in README.md (found ${blocks.length}); usage: readme-commands.mjs 1|2`);
  process.exit(2);
}
process.stdout.write(`${blocks[n - 1]}\n`);
