import { Migration } from '@mikro-orm/migrations';

/*
 * Mentions look people up by display name, case-insensitively (`lower(display_name) = any(…)` over the names a
 * message could mention): an index instead of reading every user for each message with an '@'.
 */
export class Migration20261210000000_display_name_lookup extends Migration {
  override name = 'Migration20261210000000_display_name_lookup';

  override up(): void {
    this.addSql(`create index users_display_name_lower_idx on users (lower(display_name));`);
  }

  override down(): void {
    this.addSql(`drop index users_display_name_lower_idx;`);
  }
}
