import { describe, expect, it } from 'vitest';
import { PrefWatch } from '../../../src/background/pref-watch.js';

function harness(smime: Record<number, boolean>) {
  const timers = new Map<number, () => void>();
  let next = 1;
  const suspected: number[] = [];
  const watch = new PrefWatch(
    {
      setTimer: (fn) => (timers.set(next, fn), next++),
      clearTimer: (h) => timers.delete(h as number),
      isSmime: async (id) => smime[id] ?? false,
      onSuspected: (m) => suspected.push(m.id),
    },
    1000,
  );
  const fire = async () => {
    for (const [k, fn] of [...timers]) (timers.delete(k), fn());
    await new Promise((r) => setTimeout(r, 0));
  };
  return { watch, timers, suspected, fire };
}

const msg = (id: number) => ({ id, headerMessageId: `m${id}@x` });

describe('PrefWatch (mailnews.p7m_external=false detection)', () => {
  it('reports an S/MIME selection that no display script showed', async () => {
    const h = harness({ 1: true });
    h.watch.selectionChanged([msg(1)]);
    await h.fire();
    expect(h.suspected).toEqual([1]);
  });

  it('stays quiet when the display script reported in time', async () => {
    const h = harness({ 1: true });
    h.watch.selectionChanged([msg(1)]);
    h.watch.displayed(1);
    expect(h.timers.size).toBe(0);
    await h.fire();
    expect(h.suspected).toEqual([]);
  });

  it('stays quiet for plain messages, multi-selection and a changed selection', async () => {
    const h = harness({ 1: true, 2: false });
    h.watch.selectionChanged([msg(2)]);
    await h.fire();
    h.watch.selectionChanged([msg(1), msg(2)]);
    await h.fire();
    h.watch.selectionChanged([msg(1)]);
    h.watch.selectionChanged([]);
    await h.fire();
    expect(h.suspected).toEqual([]);
  });

  it('ignores a display of another message', async () => {
    const h = harness({ 1: true });
    h.watch.selectionChanged([msg(1)]);
    h.watch.displayed(7);
    await h.fire();
    expect(h.suspected).toEqual([1]);
  });
});
