import type { Deps } from '../shared/deps.ts';
import type { PaymentEvent } from './provider.ts';

export type PaymentEventOutcome = { outcome: string; orderId: string | null; duplicate: boolean };

/**
 * Processes one provider event in one transaction: records its id in payment_events with its effect (a duplicate
 * changes nothing; a failure records nothing, so a retry processes it again), then announces after commit.
 */
export async function processPaymentEvent(deps: Deps, event: PaymentEvent): Promise<PaymentEventOutcome> {
  void deps; void event;
  throw new Error('not implemented yet');
}
