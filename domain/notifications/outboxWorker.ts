import type { Orm, Logger } from '../../orm/database.ts';

export interface MailTransport {
  send(message: { from: string; to: string; subject: string; text: string }): Promise<void>;
}

interface PendingRow {
  id: string;
  recipient: string;
  subject: string;
  body: string;
  attempts: number;
}

const MAX_ATTEMPTS = 8;

/**
 * Sends queued e-mail. Every node may run one: rows are claimed with FOR UPDATE SKIP LOCKED, so each message goes to
 * exactly one sender; failures back off exponentially.
 */
export function startOutboxWorker(options: {
  orm: Orm;
  transport: MailTransport;
  from: string;
  logger: Logger;
  intervalMs?: number;
}): { stop(): Promise<void>; drainOnce(): Promise<number> } {
  const { orm, transport, from, logger } = options;
  let stopped = false;
  let running: Promise<number> | undefined;

  async function drainOnce(): Promise<number> {
    const em = orm.em.fork();
    return em.transactional(async (tx) => {
      const conn = tx.getConnection();
      const rows = (await conn.execute(
        `select id, recipient, subject, body, attempts from email_outbox
         where sent_at is null and attempts < ? and next_attempt_at <= now()
         order by created_at limit 10 for update skip locked`,
        [MAX_ATTEMPTS],
        'all',
        tx.getTransactionContext(),
      )) as PendingRow[];
      for (const row of rows) {
        try {
          await transport.send({ from, to: row.recipient, subject: row.subject, text: row.body });
          await conn.execute('update email_outbox set sent_at = now(), attempts = attempts + 1 where id = ?', [row.id], 'run', tx.getTransactionContext());
        } catch (err) {
          const delaySeconds = 30 * 2 ** row.attempts;
          logger.warn({ err: String(err), outboxId: row.id }, 'e-mail delivery failed; will retry');
          await conn.execute(
            `update email_outbox set attempts = attempts + 1, last_error = ?, next_attempt_at = now() + (? || ' seconds')::interval where id = ?`,
            [String(err).slice(0, 1000), String(delaySeconds), row.id],
            'run',
            tx.getTransactionContext(),
          );
        }
      }
      return rows.length;
    });
  }

  const timer = setInterval(() => {
    if (stopped || running) return;
    running = drainOnce()
      .catch((err) => {
        logger.error({ err: String(err) }, 'outbox worker failed');
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs ?? 2000);
  timer.unref();

  return {
    drainOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** SMTP through nodemailer, e.g. SMTP_URL=smtp://user:pass@mail.example.com:587 */
export async function createSmtpTransport(smtpUrl: string): Promise<MailTransport> {
  const nodemailer = await import('nodemailer');
  const transporter = nodemailer.createTransport(smtpUrl);
  return {
    async send(message) {
      await transporter.sendMail(message);
    },
  };
}
