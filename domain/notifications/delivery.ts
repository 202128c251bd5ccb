import type { Logger, Orm } from '../../orm/database.ts';
import { EmailOutbox } from '../../orm/entities/index.ts';
import type { JobHandler } from '../shared/jobs.ts';

export interface MailTransport {
  send(message: { from: string; to: string; subject: string; text: string; headers?: Record<string, string> }): Promise<void>;
}

/**
 * The 'email.send' job: sends one queued message and marks it sent. A failure is recorded on the message and thrown,
 * so the job runner retries it with backoff. Idempotent: a message already marked sent is not sent again; only a
 * crash between the SMTP hand-over and the mark can send it twice (at least once, as with any mail queue).
 */
export function emailDelivery(options: { orm: Orm; transport: MailTransport; from: string; logger: Logger }): JobHandler<'email.send'> {
  const { orm, transport, from, logger } = options;
  return async ({ outboxId }, job) => {
    const em = orm.em.fork();
    const mail = await em.findOne(EmailOutbox, { id: outboxId });
    if (!mail || mail.sentAt) return;
    try {
      await transport.send({ from, to: mail.to, subject: mail.subject, text: mail.body, ...(mail.headers ? { headers: mail.headers } : {}) });
    } catch (err) {
      await em.nativeUpdate(EmailOutbox, { id: outboxId }, { attempts: job.attempts, lastError: String(err).slice(0, 1000) });
      throw err;
    }
    await em.nativeUpdate(EmailOutbox, { id: outboxId }, { sentAt: new Date(), attempts: job.attempts, lastError: null });
    logger.info({ outboxId, attempt: job.attempts }, 'e-mail sent');
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
