import { Migration } from '@mikro-orm/migrations';

/*
 * Notifications: one row per (recipient, kind, source) — the unique key makes every notification exactly once, however
 * often the job that creates it runs and on whichever node. `source_key` names what caused it (`message:<id>`,
 * `class:<id>:reminder:<startsAt>`…); `subject_*` names what it is about, so lists re-check access when read.
 */
export class Migration20261207000000_notifications extends Migration {
  override name = 'Migration20261207000000_notifications';

  override up(): void {
    this.addSql(`
      create table notifications (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        kind varchar(32) not null,
        source_key varchar(200) not null,
        actor_id uuid null references users (id) on delete set null,
        community_id uuid null references communities (id) on delete cascade,
        subject_type varchar(16) not null,
        subject_id uuid null,
        title varchar(300) not null,
        body text not null default '',
        url varchar(500) not null,
        created_at timestamptz not null default now(),
        read_at timestamptz null,
        constraint notifications_user_kind_source_unique unique (user_id, kind, source_key)
      );`);
    this.addSql(`create index notifications_user_idx on notifications (user_id, created_at desc, id desc);`);
    this.addSql(`create index notifications_unread_idx on notifications (user_id) where read_at is null;`);
  }

  override down(): void {
    this.addSql(`drop table if exists notifications;`);
  }
}
