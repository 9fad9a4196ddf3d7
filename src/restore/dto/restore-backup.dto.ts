import { Equals } from 'class-validator';

export class RestoreBackupDto {
  /** Must be `true`: a restore replaces the database's content. */
  @Equals(true, { message: 'confirm must be true: a restore replaces the current content of the database' })
  confirm!: boolean;
}
