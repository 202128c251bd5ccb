import type { PaymentProvider } from './provider.ts';

export interface StripeProviderOptions {
  secretKey: string;
  /** Another host for the API (tests point it at a loopback fake), e.g. http://127.0.0.1:12111 */
  apiUrl?: string;
}

/** Stripe through the official SDK: PaymentIntents with automatic payment methods, Billing subscriptions, refunds. */
export function createStripeProvider(options: StripeProviderOptions): PaymentProvider {
  void options;
  throw new Error('not implemented yet');
}
