/**
 * What the metrics and exporter tests compare: the rules and counters
 * iptables-legacy-save -c prints (its words split as iptables-restore splits
 * them), and the samples of an exposition text.
 */

export interface OracleRule {
  chain: string;
  position: number;
  /** After -j or -g; '' when the rule has none. */
  target: string;
  /** The words after --comment, joined with a space. */
  comment: string;
  packets: string;
  bytes: string;
}

export interface OraclePolicy {
  chain: string;
  policy: string;
  packets: string;
  bytes: string;
}

/** Comments with every character that needs care in a label value. */
export const awkwardComments = ['two\nlines "and" \\', 'say "hi"', 'back\\slash', 'ends with \\', '"', 'tab\there', 'é ü 日本 🔥', 'a=b,c="d"} {x', '#HELP not a comment'];

/** Words as iptables-restore splits a line: blanks separate, double quotes group, a backslash escapes inside quotes. */
function words(line: string): string[] {
  const out: string[] = [];
  let w = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted && c === '\\' && i + 1 < line.length) {
      w += line[++i];
    } else if (c === '"') {
      quoted = !quoted;
      started = true;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (started) out.push(w);
      w = '';
      started = false;
    } else {
      w += c;
      started = true;
    }
  }
  if (started) out.push(w);
  return out;
}

/** Lines of save text; a line feed inside double quotes (a comment holding one) does not end a line. */
function lines(save: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let from = 0;
  for (let i = 0; i < save.length; i++) {
    const c = save[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) {
      out.push(save.slice(from, i));
      from = i + 1;
    }
  }
  out.push(save.slice(from));
  return out;
}

/** The rules and policies of one table in iptables-legacy-save -c text, in order. */
export function oracleRules(save: string): { rules: OracleRule[]; policies: OraclePolicy[] } {
  const rules: OracleRule[] = [];
  const policies: OraclePolicy[] = [];
  const positions = new Map<string, number>();
  for (const line of lines(save)) {
    let m = /^:(\S+) (\S+) \[(\d+):(\d+)\]$/.exec(line);
    if (m && m[2] !== '-') policies.push({ chain: m[1]!, policy: m[2]!, packets: m[3]!, bytes: m[4]! });
    m = /^\[(\d+):(\d+)\] -A (\S+) ?(.*)$/s.exec(line);
    if (!m) continue;
    const chain = m[3]!;
    const w = words(m[4]!);
    const position = (positions.get(chain) ?? 0) + 1;
    positions.set(chain, position);
    let target = '';
    const comments: string[] = [];
    for (let i = 0; i < w.length; i++) {
      if (w[i] === '-j' || w[i] === '-g') target = w[i + 1]!;
      if (w[i] === '--comment') comments.push(w[++i]!);
    }
    rules.push({ chain, position, target, comment: comments.join(' '), packets: m[1]!, bytes: m[2]! });
  }
  return { rules, policies };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: string;
}

/** The samples of an exposition text (both formats), label values unescaped. */
export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    if (brace < 0 || space < brace) {
      out.push({ name: line.slice(0, space), labels: {}, value: line.slice(space + 1) });
      continue;
    }
    const labels: Record<string, string> = {};
    let i = brace + 1;
    while (line[i] !== '}') {
      const eq = line.indexOf('="', i);
      const key = line.slice(i, eq);
      let v = '';
      for (i = eq + 2; line[i] !== '"'; i++) {
        if (line[i] === '\\') {
          const n = line[++i];
          v += n === 'n' ? '\n' : n;
        } else v += line[i];
      }
      labels[key] = v;
      i++;
      if (line[i] === ',') i++;
    }
    out.push({ name: line.slice(0, brace), labels, value: line.slice(i + 2) });
  }
  return out;
}
