#!/usr/bin/env node
/**
 * The `iptc` command, for people at a terminal and for scripts. It uses only
 * the library: nothing is spawned. The library (and with it the native
 * addon) is loaded here, inside the error handling, so that an addon that
 * cannot load is one line and an exit status, like any other failure.
 *
 *   iptc save | restore | list | top | diff | apply ...   (see commands.ts)
 *   iptc [-t table] [-6] -A INPUT ... | -L | -S ...        (see iptables.ts)
 */
import { readFileSync } from 'node:fs';
import { exitStatus, UsageError } from './args.js';
import { HELP } from './help.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `iptc ${pkg.version} (iptc-node)`;
}

async function run(argv: string[]): Promise<void> {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(`${HELP['']}\n`);
    return;
  }
  if (first === '--version' || first === '-V') {
    process.stdout.write(`${version()}\n`);
    return;
  }
  if (first.startsWith('-')) {
    const [{ runIptablesForm }, { whichBackendSync }] = await Promise.all([import('./iptables.js'), import('../which.js')]);
    await runIptablesForm(argv, (family, netns, choice) => whichBackendSync({ family, netns, backend: choice as 'auto' }));
    return;
  }
  const { runCommand } = await import('./commands.js');
  await runCommand(first, argv.slice(1));
}

// exitCode, not exit(): output to a pipe must drain first.
run(process.argv.slice(2)).catch((e: unknown) => {
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`iptc: ${msg.split('\n')[0]}\n`);
  // diff(1)'s convention for iptc diff: 1 means "different", so every error is 2.
  process.exitCode = process.argv[2] === 'diff' ? 2 : exitStatus(e);
  const known = e instanceof UsageError || (e instanceof Error && e.name === 'IptcError');
  if (!known && process.env.IPTC_DEBUG) console.error(e);
});
