import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db, type Db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import { paymentSplit, platformFee, postDisputeWon, postPayment, postReversal, reversalSplit, type LedgerOrder } from './ledger.ts';

/** A small seeded PRNG (mulberry32): the same seed replays the same sequences, so a failure names its case. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)) };
}

type Rng = ReturnType<typeof prng>;

/** An order priced as checkout prices one: inclusive or exclusive tax, a fee of 0–30 % of the price net of tax. */
function randomOrder(rng: Rng, sellerId: string): LedgerOrder & { inclusive: boolean; feePercent: number } {
  const inclusive = rng.next() < 0.5;
  const rateBps = [0, 500, 1000, 1900, 2000, 2300][rng.int(0, 5)]!;
  const feePercent = rng.int(0, 30);
  // Small totals now and then, where rounding bites hardest.
  const price = rng.next() < 0.2 ? rng.int(1, 9) : rng.int(10, 500_000);
  let total: number;
  let tax: number;
  if (inclusive) {
    total = price;
    tax = total - Math.round((total * 10_000) / (10_000 + rateBps));
  } else {
    tax = Math.round((price * rateBps) / 10_000);
    total = price + tax;
  }
  return {
    id: crypto.randomUUID(),
    seller_id: sellerId,
    currency: ['EUR', 'USD', 'JPY'][rng.int(0, 2)]!,
    total_minor: total,
    tax_minor: tax,
    platform_fee_minor: platformFee(total - tax, feePercent),
    inclusive,
    feePercent,
  };
}

interface Balances {
  postings: number[];
  accounts: Record<string, number>;
  total: number;
}

async function balancesOf(q: Db, orderId: string): Promise<Balances> {
  const { rows } = await sql<{ posting_id: string | null; account: string | null; sum: string }>`
    select posting_id, account, sum(amount_minor)::text as sum from ledger_entries where order_id = ${orderId}
    group by grouping sets ((posting_id), (account), ())`.execute(q);
  const postings = rows.filter((r) => r.posting_id !== null).map((r) => Number(r.sum));
  const accounts: Record<string, number> = { provider_clearing: 0, tax_payable: 0, platform_revenue: 0, creator_payable: 0 };
  for (const r of rows) if (r.account !== null) accounts[r.account] = Number(r.sum);
  const total = Number(rows.find((r) => r.posting_id === null && r.account === null)?.sum ?? 0);
  return { postings, accounts, total };
}

describe('the ledger', () => {
  let orm: Orm;
  let q: Db;
  beforeAll(async () => {
    orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
    q = db(orm.em.fork());
  });
  afterAll(async () => orm?.close(true));

  it('every posting and every order sums to zero, no account crosses zero, and a full reversal leaves nothing (200 random sequences)', async () => {
    const sellerId = crypto.randomUUID();
    const at = new Date('2026-12-06T12:00:00Z');
    for (let seed = 1; seed <= 200; seed++) {
      const rng = prng(seed);
      const order = randomOrder(rng, sellerId);
      const creator = order.total_minor - order.tax_minor - order.platform_fee_minor;
      const context = () => `seed ${seed}: ${JSON.stringify(order)}`;
      await postPayment(q, order, at);

      // The model: what the product lets happen. Refunds while not disputed, capped at what is left; a dispute takes
      // what is left and is won (it comes back; refunds may follow) or lost (the order stays disputed: the end).
      let refunded = 0;
      let disputed = 0;
      let ended = false;
      const check = async (step: string) => {
        const b = await balancesOf(q, order.id);
        const where = `${context()} after ${step}`;
        for (const p of b.postings) expect(p, where).toBe(0);
        expect(b.total, where).toBe(0);
        const reversed = refunded + disputed;
        expect(b.accounts.provider_clearing, where).toBe(order.total_minor - reversed);
        expect(b.accounts.tax_payable, where).toBeLessThanOrEqual(0);
        expect(b.accounts.tax_payable, where).toBeGreaterThanOrEqual(-order.tax_minor);
        expect(b.accounts.platform_revenue, where).toBeLessThanOrEqual(0);
        expect(b.accounts.platform_revenue, where).toBeGreaterThanOrEqual(-order.platform_fee_minor);
        expect(b.accounts.creator_payable, where).toBeLessThanOrEqual(0);
        expect(b.accounts.creator_payable, where).toBeGreaterThanOrEqual(-creator);
        if (reversed === order.total_minor) {
          for (const [account, amount] of Object.entries(b.accounts)) expect(amount, `${where}: ${account}`).toBe(0);
        }
        if (reversed === 0) {
          expect(b.accounts, where).toEqual({
            provider_clearing: order.total_minor,
            tax_payable: 0 - order.tax_minor + 0,
            platform_revenue: 0 - order.platform_fee_minor + 0,
            creator_payable: 0 - creator + 0,
          });
        }
      };
      await check('payment');

      for (let step = 0; step < 8 && !ended; step++) {
        const left = order.total_minor - refunded;
        if (left === 0) break;
        if (rng.next() < 0.75) {
          // A partial refund (sometimes a single cent, sometimes the rest).
          const r = rng.next();
          const amount = r < 0.2 ? 1 : r < 0.35 ? left : rng.int(1, left);
          await postReversal(q, order, 'refund', amount, at);
          refunded += amount;
          await check(`refund of ${amount}`);
        } else {
          const amount = left;
          await postReversal(q, order, 'dispute', amount, at);
          disputed = amount;
          await check(`dispute of ${amount}`);
          if (rng.next() < 0.5) {
            await postDisputeWon(q, order, amount, at);
            disputed = 0;
            await check(`dispute won (${amount})`);
          } else {
            ended = true;
          }
        }
      }
      // Then the rest goes back (a last refund, unless a lost dispute ended it) and everything must be zero.
      const left = order.total_minor - refunded - disputed;
      if (left > 0 && !ended) {
        await postReversal(q, order, 'refund', left, at);
        refunded += left;
        await check(`final refund of ${left}`);
      }
    }
  }, 60_000);

  it('refuses to change or remove an entry', async () => {
    const order = { id: crypto.randomUUID(), seller_id: crypto.randomUUID(), currency: 'EUR', total_minor: 1000, tax_minor: 0, platform_fee_minor: 100 };
    await postPayment(q, order, new Date());
    await expect(q.updateTable('ledger_entries').set({ amount_minor: 0 }).where('order_id', '=', order.id).execute()).rejects.toThrow(/append-only/);
    await expect(q.deleteFrom('ledger_entries').where('order_id', '=', order.id).execute()).rejects.toThrow(/append-only/);
    expect((await balancesOf(q, order.id)).accounts.provider_clearing).toBe(1000);
  });
});

describe('payment and reversal splits', () => {
  it('a payment splits into tax, fee and the creator’s rest', () => {
    expect(paymentSplit({ total_minor: 1190, tax_minor: 190, platform_fee_minor: 100 })).toEqual({ tax: 190, fee: 100, creator: 900 });
    expect(paymentSplit({ total_minor: 0, tax_minor: 0, platform_fee_minor: 0 })).toEqual({ tax: 0, fee: 0, creator: 0 });
  });

  it('one-cent refunds add up to exactly the full reversal and never reverse more than a share', () => {
    for (const order of [
      { total_minor: 1190, tax_minor: 190, platform_fee_minor: 100 },
      { total_minor: 7, tax_minor: 1, platform_fee_minor: 2 },
      { total_minor: 333, tax_minor: 0, platform_fee_minor: 100 },
      { total_minor: 1, tax_minor: 0, platform_fee_minor: 1 },
      // 5 of 6 cents: both rounded-down shares are 0, yet the creator's whole share is 4.
      { total_minor: 6, tax_minor: 1, platform_fee_minor: 1 },
    ]) {
      const whole = paymentSplit(order);
      const sum = { tax: 0, fee: 0, creator: 0 };
      for (let cent = 0; cent < order.total_minor; cent++) {
        const part = reversalSplit(order, cent, 1);
        expect(part.tax + part.fee + part.creator).toBe(1);
        sum.tax += part.tax;
        sum.fee += part.fee;
        sum.creator += part.creator;
        // What has gone back so far stays within each share: no account crosses zero on the way.
        for (const key of ['tax', 'fee', 'creator'] as const) {
          expect(sum[key]).toBeGreaterThanOrEqual(0);
          expect(sum[key]).toBeLessThanOrEqual(whole[key]);
        }
      }
      expect(sum).toEqual(whole);
      expect(reversalSplit(order, 0, order.total_minor)).toEqual(paymentSplit(order));
    }
  });

  it('a free order reverses nothing; a part rounds tax and fee down and leaves the rest to the creator', () => {
    expect(reversalSplit({ total_minor: 0, tax_minor: 0, platform_fee_minor: 0 }, 0, 0)).toEqual({ tax: 0, fee: 0, creator: 0 });
    // 1/3 of 190 = 63.33 → 63; 1/3 of 100 = 33.33 → 33.
    expect(reversalSplit({ total_minor: 1200, tax_minor: 190, platform_fee_minor: 100 }, 0, 400)).toEqual({ tax: 63, fee: 33, creator: 304 });
    // The next third catches up what the first rounded away: 2/3 of 190 = 126.67 → 126 (63 more).
    expect(reversalSplit({ total_minor: 1200, tax_minor: 190, platform_fee_minor: 100 }, 400, 400)).toEqual({ tax: 63, fee: 33, creator: 304 });
    expect(reversalSplit({ total_minor: 1200, tax_minor: 190, platform_fee_minor: 100 }, 800, 400)).toEqual({ tax: 64, fee: 34, creator: 302 });
    // The creator's share is 4 of 6: refunding 5 takes the fifth cent from tax.
    expect(reversalSplit({ total_minor: 6, tax_minor: 1, platform_fee_minor: 1 }, 0, 5)).toEqual({ tax: 1, fee: 0, creator: 4 });
  });

  it('the fee is rounded half up on the price net of tax', () => {
    expect(platformFee(1000, 10)).toBe(100);
    expect(platformFee(5, 10)).toBe(1);
    expect(platformFee(4, 10)).toBe(0);
    expect(platformFee(999, 0)).toBe(0);
  });
});
