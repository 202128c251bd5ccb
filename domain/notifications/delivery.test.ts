import { sql } from 'kysely';
import { db } from '../../orm/db.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshTestDatabase } from '../../test/db.ts';
import { api, eventually, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';
import { startFakeSmtpServer, type FakeSmtpServer } from '../../test/smtpServer.ts';

/*
 * E-mail delivery as jobs, through a node with SMTP_URL pointing at an SMTP server on loopback. A database of its own:
 * nodes without SMTP leave their mail jobs queued, and this node would otherwise send those too.
 */

let smtp: FakeSmtpServer;
let database: Awaited<ReturnType<typeof freshTestDatabase>>;
let node: RunningNode;

beforeAll(async () => {
  smtp = await startFakeSmtpServer();
  database = await freshTestDatabase('mail');
  node = await startNode({ databaseUrl: database.url, env: { SMTP_URL: smtp.url } });
});

afterAll(async () => {
  await node?.close();
  await smtp?.close();
  await database?.drop();
});

async function outboxFor(email: string) {
  return db(node.node.deps.orm.em.fork())
    .selectFrom('email_outbox')
    .select((eb) => ['id', 'attempts', 'last_error', eb('sent_at', 'is not', null).as('sent')])
    .where('recipient', '=', email)
    .execute();
}

async function jobsFor(outboxId: string) {
  const { rows } = await sql<{ id: string; attempts: number; waiting: boolean; locked: boolean }>`
    select id, attempts, run_at > now() as waiting, locked_at is not null as locked from graphile_worker.jobs
    where key = ${`email:${outboxId}`}
  `.execute(node.node.deps.orm.em.fork().getKysely());
  return rows;
}

const register = (email: string) =>
  api(node.url, 'POST', '/api/v1/auth/register', { body: { email, password: STRONG_PASSWORD, displayName: 'Mail Reader' } });

describe('e-mail delivery jobs', () => {
  it('retries a transient SMTP failure with backoff and then sends the message once', async () => {
    smtp.refuseNext(1);
    const email = uniqueEmail('mail');
    expect((await register(email)).status).toBe(201);

    await eventually(() => smtp.refused === 1, 10_000, 'the first delivery attempt');
    await eventually(async () => (await outboxFor(email))[0]?.last_error != null, 5000, 'the failure to be recorded');
    const [row] = await outboxFor(email);
    expect(row).toMatchObject({ attempts: 1, sent: false, last_error: expect.stringContaining('451') });
    await eventually(async () => (await jobsFor(row!.id))[0]?.locked === false, 5000, 'the job to be released');
    const [job] = await jobsFor(row!.id);
    expect(job).toMatchObject({ attempts: 1, waiting: true });

    // The retry is due in about e^1 seconds; make it due now rather than wait.
    await sql`select graphile_worker.reschedule_jobs(array[${job!.id}]::bigint[], run_at => now())`.execute(
      node.node.deps.orm.em.fork().getKysely(),
    );
    await eventually(() => smtp.received.length === 1, 10_000, 'the retry to deliver');
    await eventually(async () => (await outboxFor(email))[0]?.sent === true, 5000, 'the message to be marked sent');

    const [mail] = smtp.received;
    expect(mail!.to).toEqual([`<${email}>`]);
    expect(mail!.data).toContain('Subject: Confirm your e-mail for Edulure');
    expect(mail!.data).toContain('/verify-email?token=');
    expect(await outboxFor(email)).toEqual([{ id: row!.id, attempts: 2, last_error: null, sent: true }]);
    // Done: the job is gone (the worker completes it just after the task returns) and nothing sends the message again.
    await eventually(async () => (await jobsFor(row!.id)).length === 0, 5000, 'the job to be completed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.received).toHaveLength(1);
  });

  it('a registration that does not commit (the address is taken) sends nothing', async () => {
    const email = uniqueEmail('taken');
    expect((await register(email)).status).toBe(201);
    await eventually(() => smtp.received.some((m) => m.to.includes(`<${email}>`)), 10_000, 'the first registration mail');
    const before = smtp.received.length + smtp.refused;

    const again = await register(email);
    expect(again.status).toBe(409);
    expect(await outboxFor(email)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.received.length + smtp.refused).toBe(before);
  });
});
