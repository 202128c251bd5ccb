import { Migration } from '@mikro-orm/migrations';

export class Migration20261125000000_foundation extends Migration {
  override name = 'Migration20261125000000_foundation';

  override up(): void {
    this.addSql(`
      create table users (
        id uuid primary key,
        email varchar(254) not null,
        password_hash varchar(255) not null,
        display_name varchar(60) not null,
        role text not null default 'user' check (role in ('user', 'instructor', 'moderator', 'admin')),
        email_verified_at timestamptz null,
        is_demo boolean not null default false,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint users_email_unique unique (email),
        constraint users_email_lowercase check (email = lower(email))
      );`);
    this.addSql(`
      create table sessions (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        user_agent varchar(512) null,
        ip varchar(64) null,
        created_at timestamptz not null default now(),
        last_used_at timestamptz not null default now(),
        expires_at timestamptz not null,
        revoked_at timestamptz null,
        revoked_reason varchar(32) null
      );`);
    this.addSql(`create index sessions_user_active_idx on sessions (user_id) where revoked_at is null;`);
    this.addSql(`
      create table refresh_tokens (
        id uuid primary key,
        session_id uuid not null references sessions (id) on delete cascade,
        secret_hash varchar(64) not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz null
      );`);
    this.addSql(`create index refresh_tokens_session_idx on refresh_tokens (session_id);`);
    this.addSql(`
      create table email_verification_tokens (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        secret_hash varchar(64) not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz null
      );`);
    this.addSql(`create index email_verification_tokens_user_idx on email_verification_tokens (user_id);`);
    this.addSql(`
      create table email_outbox (
        id uuid primary key,
        recipient varchar(254) not null,
        subject varchar(200) not null,
        body text not null,
        created_at timestamptz not null default now(),
        sent_at timestamptz null,
        attempts integer not null default 0,
        last_error text null,
        next_attempt_at timestamptz not null default now()
      );`);
    this.addSql(`create index email_outbox_pending_idx on email_outbox (next_attempt_at) where sent_at is null;`);
  }

  override down(): void {
    this.addSql('drop table if exists email_outbox, email_verification_tokens, refresh_tokens, sessions, users cascade;');
  }
}
