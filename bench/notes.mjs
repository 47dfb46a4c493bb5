// What the profiles showed (perf on the addon and on the kernel, V8's CPU
// profile on the JavaScript, the C floors beside them): kept next to the
// numbers in RESULTS.md. Update them when a profile says otherwise.
export const NOTES = [
  '- Whole-table restore of new text (10,000 simple rules, ~50-65 ms): about 23 ms is compiling the text (libxtables\' own option parsing and the extensions\' parse/final checks take about half of it, the line split, cache keys and the entry arena the other half), the rest is the commit: of that, about 78% is the kernel\'s IPT_SO_SET_REPLACE (copy_from_user of the blob about a third, then translate_table / find_check_entry checking every entry and taking a module reference per match and target), building the blob about 16%. The kernel\'s replace alone is 14-20 ms where iptables-legacy-restore takes about 50 ms in all, and it still runs the same libxtables parse per rule, so 2x faster than the tool would need the parse and the build to cost less than nothing: the target is out of reach while every rule is parsed exactly as iptables parses it. Re-restoring text already committed skips the parse (remembered entries) and is where the gain shows.',
  '- Rule objects: each object is turned into words and parsed by libxtables like a line of text (the same guarantee); the extra over text is building the words in JavaScript.',
  '- One rule added, replaced or deleted: the C floor (bench/one_rule.c: GET_INFO + GET_ENTRIES, splice, SET_REPLACE, SET_ADD_COUNTERS, nothing else) is most of the time; what remains above it is the lock, the conflict check (one raw read compared with the snapshot, counters masked) and the parse of the one rule.',
  '- Reads: the kernel blob is kept as read; save() prints natively into one buffer, identical match and target blobs printed once per read. Rule objects are built per chain when asked, from the printed fields; at 50,000 multi rules the JavaScript objects themselves (allocation and GC) are the larger part.',
  '- Counters: one GET_ENTRIES into a reused buffer and a pass copying the counters into the typed array; the raw read floor is the kernel\'s copy of the table.',
  '- Event loop: every O(table) step (parse, build, print, compare) runs on a worker thread; what is left on the JavaScript thread is handing buffers over and, for rule objects, the objects themselves.',
];

export const NFT_NOTES = [
  '- The kernel answers a rule dump a socket buffer (~32 KB) at a time, and each continuation walks the chain from its start again to the rule where the last one stopped: a dump costs O(n²/k) in the length n of the chains it covers. iptc-node dumps the whole table once (rules of every chain), iptables-nft-save dumps chain by chain; with rules spread over many chains both are linear, with one long chain both are quadratic.',
  '- What readers should do: keep chains short (split a long chain into chains jumped to by a dispatch rule; kube-proxy does), and poll counters with one CounterReader, which dumps the rules once per read and lays the table out again only when the generation id moved.',
];
