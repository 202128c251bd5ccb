import { Migration } from '@mikro-orm/migrations';

/*
 * Notification preferences (per kind × channel, community mutes, quiet hours in the user's time zone), web push
 * subscriptions per device, and when each notification was e-mailed or pushed (so each is sent once per channel).
 */
export class Migration20261207010000_notification_delivery extends Migration {
  override name = 'Migration20261207010000_notification_delivery';

  override up(): void {
    this.addSql(`
      create table notification_preferences (
        user_id uuid primary key references users (id) on delete cascade,
        -- kind → { inApp, email, push }; a kind not listed uses the defaults
        kinds jsonb not null default '{}',
        muted_community_ids uuid[] not null default '{}',
        -- minutes after midnight in time_zone; both null: no quiet hours
        quiet_start smallint null check (quiet_start between 0 and 1439),
        quiet_end smallint null check (quiet_end between 0 and 1439),
        time_zone varchar(64) not null default 'UTC',
        email_unsubscribed_at timestamptz null,
        updated_at timestamptz not null default now(),
        check ((quiet_start is null) = (quiet_end is null))
      );`);
    this.addSql(`
      create table push_subscriptions (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        endpoint text not null,
        p256dh varchar(200) not null,
        auth varchar(100) not null,
        user_agent varchar(300) null,
        created_at timestamptz not null default now(),
        last_used_at timestamptz null,
        constraint push_subscriptions_endpoint_unique unique (endpoint)
      );`);
    this.addSql(`create index push_subscriptions_user_idx on push_subscriptions (user_id);`);
    this.addSql(`alter table notifications add column emailed_at timestamptz null, add column pushed_at timestamptz null;`);
    this.addSql(`create index notifications_email_pending_idx on notifications (user_id, created_at) where emailed_at is null and read_at is null;`);
  }

  override down(): void {
    this.addSql(`drop index if exists notifications_email_pending_idx;`);
    this.addSql(`alter table notifications drop column emailed_at, drop column pushed_at;`);
    this.addSql(`drop table if exists push_subscriptions, notification_preferences;`);
  }
}
