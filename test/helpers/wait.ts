/** Polls `condition` until it holds or `ms` pass; returns whether it held. */
export async function waitFor(condition: () => boolean, ms = 3000, stepMs = 5): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return condition();
}
