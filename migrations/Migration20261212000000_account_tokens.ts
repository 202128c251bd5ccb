import { Migration } from '@mikro-orm/migrations';

/*
 * Account changes by e-mailed link: a password reset (short-lived, single use) and a change of e-mail address that
 * takes effect only when the new address confirms it. Only a hash of each link's secret is stored.
 */
export class Migration20261212000000_account_tokens extends Migration {
  override name = 'Migration20261212000000_account_tokens';

  override up(): void {
    this.addSql(`
      create table password_reset_tokens (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        secret_hash varchar(64) not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz null
      );`);
    this.addSql(`create index password_reset_tokens_user_idx on password_reset_tokens (user_id);`);
    this.addSql(`
      create table email_change_tokens (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        new_email varchar(254) not null,
        secret_hash varchar(64) not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz null,
        constraint email_change_tokens_new_email_lowercase check (new_email = lower(new_email))
      );`);
    this.addSql(`create index email_change_tokens_user_idx on email_change_tokens (user_id);`);
  }

  override down(): void {
    this.addSql('drop table if exists email_change_tokens, password_reset_tokens;');
  }
}
