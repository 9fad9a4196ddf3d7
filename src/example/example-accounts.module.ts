import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AutomationModule } from '../automation/automation.module';
import { AccountBackupListener } from './account-backup.listener';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';

/**
 * A demo host feature wired to backups: creating an account emits `account.created`, and a
 * listener requests a backup. Needs `EventEmitterModule.forRoot()` in the app. BackupTrigger comes
 * from AutomationModule here; a host app injects it where it imports PgBackupModule (which exports it).
 */
@Module({
  imports: [AuthModule, AutomationModule],
  controllers: [AccountsController],
  providers: [AccountsRepository, AccountsService, AccountBackupListener],
})
export class ExampleAccountsModule {}
