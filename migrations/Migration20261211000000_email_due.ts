import { Migration } from '@mikro-orm/migrations';

/*
 * E-mail digests fall due by a column instead of one queued job per recipient: a notification wanted by e-mail is
 * stored with `email_due_at` (EMAIL_NOTIFY_DELAY_MINUTES after it), and one periodic sweep mails whoever has one due.
 * Storing a notification no longer writes a job (and wakes every worker) as well. Digests already queued as jobs are
 * taken over: their recipients' unseen notifications fall due now, and the jobs are dropped.
 */
export class Migration20261211000000_email_due extends Migration {
  override name = 'Migration20261211000000_email_due';

  override up(): void {
    this.addSql(`alter table notifications add column email_due_at timestamptz null;`);
    this.addSql(`create index notifications_email_due_idx on notifications (email_due_at, user_id) where email_due_at is not null;`);
    this.addSql(`do $$
      begin
        if to_regclass('graphile_worker._private_jobs') is not null then
          update notifications n set email_due_at = now()
            where n.emailed_at is null and n.read_at is null
              and exists (select 1 from graphile_worker._private_jobs j where j.key = 'email-digest:' || n.user_id::text);
          perform graphile_worker.remove_job(j.key) from graphile_worker._private_jobs j where j.key like 'email-digest:%';
        end if;
      end $$;`);
  }

  override down(): void {
    this.addSql(`drop index notifications_email_due_idx;`);
    this.addSql(`alter table notifications drop column email_due_at;`);
  }
}
