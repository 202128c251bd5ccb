import { Migration } from '@mikro-orm/migrations';

/*
 * Each post and comment carries its own version, moved on by every change that the live feed announces, in the same
 * transaction. Clients apply an item's events only when newer than what they hold, so a hide that commits after an
 * edit wins even when the edit's event arrives last.
 */
export class Migration20261209000000_feed_item_versions extends Migration {
  override name = 'Migration20261209000000_feed_item_versions';

  override up(): void {
    this.addSql(`alter table posts add column version integer not null default 1;`);
    this.addSql(`alter table comments add column version integer not null default 1;`);
  }

  override down(): void {
    this.addSql(`alter table comments drop column version;`);
    this.addSql(`alter table posts drop column version;`);
  }
}
