import { Migration } from '@mikro-orm/migrations';

/* Extra headers for an outgoing e-mail (e.g. List-Unsubscribe on notification digests); null: none. */
export class Migration20261207020000_email_headers extends Migration {
  override name = 'Migration20261207020000_email_headers';

  override up(): void {
    this.addSql(`alter table email_outbox add column headers jsonb null;`);
  }

  override down(): void {
    this.addSql(`alter table email_outbox drop column headers;`);
  }
}
