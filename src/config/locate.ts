// Where a key sits in the configuration's source text, so that every error
// names its line: a small scan of TOML tables and `key =` lines, or of JSON's
// tokens. Pure; nothing here decides whether a value is valid.

/** A key path ("service", "web", "restart", "policy") → the first line (1-based) that defines it. */
export type LineIndex = Map<string, number>;

const SEP = '\u0000';
export const pathKey = (path: readonly (string | number)[]): string => path.join(SEP);

/** Splits a TOML key (`a."b.c".d`) into its parts, loosely: quotes are honoured, escapes are not needed for names. */
function tomlKeyParts(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (const ch of text.trim()) {
    if (quote) {
      if (ch === quote) quote = null;
      else cur += ch;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '.') {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** TOML: `[table]`, `[[array]]` and `key = value` lines (the value may be an inline table or span lines). */
export function indexToml(text: string): LineIndex {
  const index: LineIndex = new Map();
  const set = (path: string[], line: number): void => {
    for (let i = 1; i <= path.length; i++) {
      const k = pathKey(path.slice(0, i));
      if (!index.has(k)) index.set(k, line);
    }
  };
  let table: string[] = [];
  let depth = 0; // inside a multi-line array or inline table: no new keys at the top
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '');
    if (depth === 0) {
      const header = /^\[\[?([^\]]+)\]\]?/.exec(line);
      if (header) {
        table = tomlKeyParts(header[1]!);
        set(table, i + 1);
        return;
      }
      const kv = /^((?:"[^"]*"|'[^']*'|[A-Za-z0-9_.\- ]+?)+?)\s*=/.exec(line);
      if (kv) {
        const path = [...table, ...tomlKeyParts(kv[1]!)];
        set(path, i + 1);
        // Keys of an inline table on the same line: `ready = { tcp = "x", timeout = "1s" }`.
        const rest = line.slice(kv[0].length);
        for (const m of rest.matchAll(/[{,]\s*([A-Za-z0-9_-]+)\s*=/g)) set([...path, m[1]!], i + 1);
      }
    }
    // Track brackets outside strings and comments, so lines inside a
    // multi-line array or table are not taken for keys of their own.
    let quote: string | null = null;
    for (const ch of line) {
      if (quote) {
        if (ch === quote) quote = null;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '#') break;
      else if (ch === '[' || ch === '{') depth++;
      else if (ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    }
  });
  return index;
}

/** JSON: a tokenizer that follows nesting and records where each key and array element starts. */
export function indexJson(text: string): LineIndex {
  const index: LineIndex = new Map();
  type Frame = { kind: 'obj'; key: string | null } | { kind: 'arr'; n: number };
  const stack: Frame[] = [];
  const path: (string | number)[] = [];
  let line = 1;
  let lastString: string | null = null;
  let lastStringLine = 1;
  const valueStarts = (): void => {
    const top = stack[stack.length - 1];
    if (top?.kind === 'arr') {
      const k = pathKey([...path, top.n]);
      if (!index.has(k)) index.set(k, line);
    }
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\n') line++;
    else if (ch === '"') {
      let s = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\') j++;
        if (text[j] === '\n') line++;
        s += text[j];
      }
      const startLine = line;
      i = j;
      // A key if a ':' follows.
      let k = i + 1;
      while (k < text.length && /\s/.test(text[k]!)) k++;
      if (text[k] === ':' && stack[stack.length - 1]?.kind === 'obj') {
        lastString = s;
        lastStringLine = startLine;
      } else valueStarts();
    } else if (ch === ':') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'obj' && lastString !== null) {
        top.key = lastString;
        const k = pathKey([...path, lastString]);
        if (!index.has(k)) index.set(k, lastStringLine);
      }
    } else if (ch === '{' || ch === '[') {
      valueStarts();
      const top = stack[stack.length - 1];
      if (top) path.push(top.kind === 'obj' ? (top.key ?? '') : top.n);
      stack.push(ch === '{' ? { kind: 'obj', key: null } : { kind: 'arr', n: 0 });
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      if (stack.length > 0) path.pop();
    } else if (ch === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'arr') top.n++;
    } else if (!/\s/.test(ch)) {
      // A number, true, false or null: one value start per token.
      const prev = text[i - 1];
      if (prev === undefined || /[\s,:[]/.test(prev)) valueStarts();
    }
  }
  return index;
}

/** The line of the deepest defined prefix of path (an inline table's line for a key inside it), or null. */
export function lineOf(index: LineIndex, path: readonly (string | number)[]): number | null {
  for (let n = path.length; n > 0; n--) {
    const l = index.get(pathKey(path.slice(0, n)));
    if (l !== undefined) return l;
  }
  return null;
}
