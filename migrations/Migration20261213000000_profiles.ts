import { Migration } from '@mikro-orm/migrations';

/*
 * Profiles: a one-line headline, a plain-text bio and an avatar (an uploaded image, attached like any other use of an
 * asset). Deleting the asset clears the avatar rather than the account.
 */
export class Migration20261213000000_profiles extends Migration {
  override name = 'Migration20261213000000_profiles';

  override up(): void {
    this.addSql(`
      alter table users
        add column headline varchar(120) not null default '',
        add column bio text not null default '',
        add column avatar_asset_id uuid null references assets (id) on delete set null,
        add constraint users_bio_length check (char_length(bio) <= 2000);`);
  }

  override down(): void {
    this.addSql(`alter table users drop constraint users_bio_length, drop column avatar_asset_id, drop column bio, drop column headline;`);
  }
}
