import { Body, Controller, Get, Post } from '@nestjs/common';
import { AdminApi } from '../auth/admin-api.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { AccountsService } from './accounts.service';
import { CreateAccountDto } from './dto/create-account.dto';

/** Outside the admin prefix, but admin-only: it writes to the backed-up database. */
@AdminApi()
@Controller('api/example/accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post()
  @Audited('example.account.create')
  create(@Body() dto: CreateAccountDto) {
    return this.accounts.create(dto);
  }

  /** The newest 50. */
  @Get()
  @AuditedWhenDenied('example.account.list')
  list() {
    return this.accounts.list();
  }
}
