export const PG_BACKUP_UI_OPTIONS = 'PG_BACKUP:UI_OPTIONS';

export interface UiOptions {
  /** Route of the page, without slashes (e.g. `backup-admin`). */
  uiPath: string;
  /** Route prefix of the admin API, without slashes (e.g. `api/admin`). */
  apiPath: string;
}
