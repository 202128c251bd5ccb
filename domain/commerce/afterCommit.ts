/*
 * Work a commerce step leaves for after its transaction commits (domain events: the order changed, a door opened).
 * Steps run inside one transaction return these; the caller runs them once the transaction has committed, so nobody
 * hears of a change that rolled back.
 */
export type AfterCommit = () => Promise<void>;

export async function runAfterCommit(steps: readonly AfterCommit[]): Promise<void> {
  for (const step of steps) await step();
}
