// Waiting without timing assertions: polls with a deadline, a bounded pool,
// and a watcher of a stream's lines.

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}


export async function waitFor(what, fn, timeoutMs = 10000, everyMs = 10) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}


/** Runs fn over items with at most `limit` at once. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

/** Lines of stdout as they arrive, with a waiter for a line matching a test. */
export function lineWatcher(stream) {
  const lines = [];
  let buf = '';
  const waiters = [];
  stream.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    for (const w of [...waiters]) w();
  });
  const waitLine = (pred, what, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = lines.find(pred);
        if (found !== undefined) {
          clearTimeout(t);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(found);
        }
      };
      const t = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(lines.slice(-10))}`));
      }, timeoutMs);
      waiters.push(check);
      check();
    });
  return { lines, waitLine };
}
