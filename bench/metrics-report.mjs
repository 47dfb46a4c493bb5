// The "Metrics, exporter and watch" section of bench/RESULTS.md, from one
// run of bench/metrics.mjs: figures, and each target of issue 14, met or missed.
const f = (x, d = 2) => x.toFixed(d);
const mb = (x) => (x / 2 ** 20).toFixed(1);
const met = (ok) => (ok ? 'met' : '**missed**');

export function report(r) {
  const out = [];
  out.push('## Metrics, exporter and watch', '');
  out.push(
    `Measured by \`npm run bench\` (bench/metrics.mjs) on ${new Date().toISOString().slice(0, 10)}, in the same kind of scratch namespace, on the \`simple\` shape. ` +
      'A scrape is what `iptc exporter` does: `formatBuffer(await collect())` (OpenMetrics bytes) written to /dev/null, labels already built (`scrape()`, which returns a string, is shown too); "spawned" is what exporters do today: ' +
      'spawn `iptables-legacy-save -c`, parse it and write the same exposition (without a stable key) to /dev/null; the floor is the C raw read of the counters ' +
      '(bench/raw_read.c: GET_INFO + GET_ENTRIES) plus writing as many bytes. Medians. ' +
      `Load average when the run started: ${r.load.map((x) => x.toFixed(2)).join(', ')} on ${r.cpus} CPUs (the machine is shared).`,
    '',
  );
  out.push('| rules | exposition MB | scrape ms | scrape() string ms | spawned ms | spawned / scrape | raw read ms | + write ms | scrape / floor | CounterReader.read ms | first scrape (labels) ms |');
  out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const x of r.scrape) {
    out.push(`| ${x.n} | ${mb(x.bytes)} | ${f(x.ours)} | ${f(x.asString)} | ${f(x.spawned)} | ${f(x.spawned / x.ours)} | ${f(x.rawMs)} | ${f(x.writeMs)} | ${f(x.ours / x.floor)} | ${f(x.readerMs)} | ${f(x.labelMs)} |`);
  }
  const s = r.sustained;
  const w = r.watch;
  out.push('');
  out.push(
    `\`iptc exporter\` (its own process) scraped over HTTP 10 times a second for ${f(s.seconds, 1)} s, ${s.n} rules: ${s.scrapes} scrapes, ` +
      `CPU ${f(100 * s.cpu, 1)} % of one core, scrape latency median ${f(s.median)} ms and max ${f(s.max)} ms, resident memory ${mb(s.rssMin)} to ${mb(s.rssMax)} MB (sampled every second); it exited ${s.exit} on SIGTERM.`,
  );
  out.push('');
  out.push(
    `\`watch()\` on an unchanged ${w.n}-rule table at 10 Hz for ${f(w.seconds, 1)} s: ${w.events} events, CPU ${f(100 * w.cpu, 1)} % of one core (the bench process, nothing else running); ` +
      `a poll (one CounterReader read that finds the layout unchanged) ${f(w.poll)} ms median, ${f(w.pollMax)} ms max; the raw read ${f(w.raw)} ms.`,
  );
  out.push('', '### Targets (issue 14)', '');
  for (const x of r.scrape) {
    out.push(`- One scrape of ${x.n} rules at least 5x faster than spawn + parse + write: x${f(x.spawned / x.ours)}, ${met(x.spawned / x.ours >= 5)}.`);
    out.push(`- Within 2x of the raw counter read plus the bytes written, ${x.n} rules: x${f(x.ours / x.floor)}, ${met(x.ours / x.floor <= 2)}.`);
  }
  out.push(`- Sustained 10 scrapes/s of ${s.n} rules for ${f(s.seconds, 0)} s: resident memory flat within 10 MB: ${mb(s.rssMax - s.rssMin)} MB, ${met(s.rssMax - s.rssMin <= 10 * 2 ** 20)}; no scrape slower than 3x the median: max/median ${f(s.max / s.median)}, ${met(s.max <= 3 * s.median)}; CPU recorded: ${f(100 * s.cpu, 1)} %.`);
  out.push(`- watch on an unchanged ${w.n}-rule table at 10 Hz: a poll within 1.25x of the raw read: median x${f(w.poll / w.raw)}, ${met(w.poll <= 1.25 * w.raw)} (the slowest poll x${f(w.pollMax / w.raw)}); CPU recorded: ${f(100 * w.cpu, 1)} %.`);
  out.push('');
  return out.join('\n');
}
