import { Transform } from 'class-transformer';
import { IsEmail, IsIn, MaxLength } from 'class-validator';
import { ACCOUNT_ROLES, AccountRole } from '../account';

export class CreateAccountDto {
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @IsIn(ACCOUNT_ROLES)
  role!: AccountRole;
}
