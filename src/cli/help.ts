/**
 * What `iptc --help` and `iptc COMMAND --help` print.
 */
export const HELP: Record<string, string> = {
  '': `usage: iptc <command> [options]
       iptc [-t table] [-6] -A|-I|-R|-D|-C|-N|-X|-E|-F|-Z|-P|-L|-S ...   (as iptables)

Commands (each has --help):
  save      print tables in iptables-save format
  restore   load iptables-save format (iptables-restore's flags and exit statuses)
  list      show a table as iptables -L -n -v --line-numbers (or -S) shows it
  top       a live view of the busiest rules
  exporter  serve the counters to Prometheus (/metrics, OpenMetrics)
  watch     print each change to a table as an iptables command
  diff      compare the live tables with an iptables-save file
  apply     change the live tables into an iptables-save file, keeping counters

The iptables form takes one command with iptables' own words, e.g.
  iptc -A INPUT -p tcp --dport 22 -j ACCEPT
  iptc -t nat -L -n -v
and commits it atomically under the xtables lock (-w [secs] waits for it).
-C exits 0 when the rule exists and 1 when it does not.

Common options: -6 (IPv6; default IPv4), --netns NAME|PATH (an ip-netns name or a path),
--backend legacy|nft|auto (which kernel firewall to read and write:
iptables-legacy's xtables tables or iptables-nft's nf_tables tables; auto,
the default, takes the one that holds rules), --version.
Exit statuses, as iptables: 0 done, 1 other problem, 2 a bad parameter or
input (with its line), 4 a resource problem (the xtables lock not had in time).`,
  save: `usage: iptc save [-t table] [-6] [-c] [--json] [--backend B] [--netns NAME]

Prints every table (or just -t table) in iptables-save format.
  -t, --table NAME   only this table
  -6                 IPv6 (ip6tables-save)
  -c, --counters     include rule counters ([packets:bytes])
  --json             every table as JSON instead: chains, rules (fields and spec), counters as strings
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace (ip-netns name or path)`,
  restore: `usage: iptc restore [-t] [-n] [-c] [-T table] [-w [secs]] [-v] [-6] [--backend B] [--netns NAME] [file]

Reads iptables-save format from file (or standard input); each table is
committed atomically, as iptables-restore does.
  -t, --test         parse and check everything, commit nothing
  -n, --noflush      add to the tables instead of replacing them
  -c, --counters     take counters from the input
  -T, --table NAME   restore only this table
  -w, --wait [SECS]  wait for the xtables lock, for ever or SECS seconds (default 10)
  -W, --wait-interval USECS   accepted for iptables-restore's sake; ignored
  -v, --verbose      name each table as it is committed
  -6                 IPv6 (ip6tables-restore)
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace
Exit status: 0 done, 1 other problem, 2 bad input (the line is named), 4 lock not had.`,
  list: `usage: iptc list [-t table] [-6] [-x] [-S [-v]] [--json] [--backend B] [--netns NAME] [chain]

Shows a table (default filter), or one chain, exactly as
iptables -L -n -v --line-numbers shows it; with -S, as iptables -S.
  -t, --table NAME   the table
  -6                 IPv6
  -x, --exact        exact counters instead of K/M/G units
  -S, --list-rules   the rules as specs (-P, -N, -A lines)
  -v, --verbose      with -S: the counters too (-c packets bytes)
  -n, --line-numbers accepted for iptables' sake (always numeric, always numbered)
  --json             the table (or chain) as JSON: chains, rules (fields and spec), counters as strings
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
  top: `usage: iptc top [-t table] [-6] [--interval ms] [--rows N] [--count N] [--json] [--backend B] [--netns NAME]

A live view of the busiest rules by packets/s and bits/s. On a terminal it
redraws the screen; press q or Ctrl-C to quit. Otherwise it prints a block of
lines per interval.
  -t, --table NAME   the table (default filter)
  -6                 IPv6
  --interval MS      refresh period (default 1000)
  --rows N           rules to show (default 20)
  --count N          stop after N refreshes
  --json             one JSON object per refresh, one per line
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
  exporter: `usage: iptc exporter [--listen HOST:PORT] [-t table[,table...]] [-4|-6] [--backend B] [--netns NAME]

Serves the rule and policy counters over HTTP for Prometheus: GET /metrics
(OpenMetrics when the client asks for it, else the Prometheus 0.0.4 text),
GET /healthz. Read-only. A scrape that fails (namespace gone, table absent)
answers with iptc_scrape_success 0 and one line per error on stderr.
SIGTERM or SIGINT stops it.
  --listen HOST:PORT   where to listen (default 127.0.0.1:9455: loopback only)
  -t, --table LIST     tables to serve, comma-separated (default: every table there is)
  -4, -6               one family only (default: both)
  --backend B          legacy, nft or auto (default)
  --netns NAME         read this network namespace (looked up at every scrape)`,
  watch: `usage: iptc watch [-t table] [-6] [--interval ms] [--count N] [--backend B] [--netns NAME]

Prints each change to a table as the iptables command that makes it
(-N, -E, -X, -P, -A, -I, -D), as xtables-monitor does for nf_tables. Polls the
counters (cheap while nothing changes) and reads the rules only when they
changed. Ctrl-C or SIGTERM stops it.
  -t, --table NAME   the table (default filter)
  -6                 IPv6
  --interval MS      how often to look (default 1000)
  --count N          stop after N changes
  --backend B        legacy, nft or auto (default)
  --netns NAME       watch this network namespace`,
  diff: `usage: iptc diff [-t table] [-n] [-6] [--json] [--backend B] [--netns NAME] FILE

Compares the live tables with what iptables-restore (-n: iptables-restore
--noflush) would make of them with FILE (iptables-save format; - for standard
input): every table FILE has a block for, or just -t table. A built-in chain
keeps its policy unless FILE has its :CHAIN POLICY line. For each table that
differs prints *table and lines such as
  + -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT     a rule FILE adds
  - -A INPUT -j DROP                                a rule FILE removes
  ~ moved -A INPUT -j LOG (3 -> 1)                  a rule in another place
  :INPUT policy ACCEPT -> DROP, + chain X, - chain Y, chain A renamed to B
Exit status: 0 when equal, 1 when different, 2 on error (like diff(1)).
  -t, --table NAME   only this table
  -n, --noflush      FILE adds to the tables (as iptables-restore -n reads it)
  -6                 IPv6
  --json             the differences as JSON, one object per table (same exit status)
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
  apply: `usage: iptc apply [-t table] [-n] [-w [secs]] [-6] [--backend B] [--netns NAME] [--dry-run] FILE

Makes the live tables what iptables-restore (-n: iptables-restore --noflush)
would make of them with FILE (iptables-save format; - for standard input),
with the fewest changes, so that rules which stay keep their counters: every
table FILE has a block for, or just -t table, each in one atomic commit. A
built-in chain keeps its policy unless FILE has its :CHAIN POLICY line.
Prints the plan as iptables-restore --noflush input; it deletes rules by
their text, never by position.
  -t, --table NAME   only this table
  -n, --noflush      FILE adds to the tables (as iptables-restore -n reads it)
  -6                 IPv6
  --dry-run          print the plan, change nothing
  -w, --wait [SECS]  wait for the xtables lock, for ever or SECS seconds (default 10)
  --backend B        legacy, nft or auto (default)
  --netns NAME       act in this network namespace`,
};
