import { Body, Controller, Get, Put } from '@nestjs/common';
import { Actor } from '../auth/actor.decorator';
import { AdminApi } from '../auth/admin-api.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { UpdateConfigDto } from './dto/update-config.dto';
import { SettingsService } from './settings.service';

@AdminApi()
@Controller('backups/config')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @AuditedWhenDenied('config.get')
  get() {
    return this.settings.get();
  }

  @Put()
  @Audited('config.update')
  update(@Actor() actor: string, @Body() dto: UpdateConfigDto) {
    return this.settings.update(actor, dto);
  }
}
