// Each test file takes the xtables lock at its own path, shared by iptc-node
// and the iptables-legacy tools it runs (both read XTABLES_LOCKFILE), so test
// files in parallel never wait on each other or on the machine's own lock.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (!process.env.IPTC_TEST_SHARED_LOCK) {
  process.env.XTABLES_LOCKFILE = join(mkdtempSync(join(tmpdir(), 'iptc-lock-')), 'xtables.lock');
}
