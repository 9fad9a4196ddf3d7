import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor } from '../auth/actor.decorator';
import { AdminApi } from '../auth/admin-api.decorator';
import { RequiresPermission } from '../auth/requires-permission.decorator';
import { Audited, AuditedWhenDenied } from '../audit/audited.decorator';
import { ApiError } from '../openapi/api-error';
import { BackupConfigResponse } from './dto/config.response';
import { UpdateConfigDto } from './dto/update-config.dto';
import { SettingsService } from './settings.service';

@AdminApi()
@ApiTags('settings')
@Controller('backups/config')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get()
  @AuditedWhenDenied('config.get')
  @RequiresPermission('config.read')
  @ApiOperation({ operationId: 'getConfig', summary: 'The schedule, retention and backup settings, with the next runs' })
  @ApiOkResponse({ type: BackupConfigResponse })
  get() {
    return this.settings.get();
  }

  @Put()
  @Audited('config.update')
  @RequiresPermission('config.update')
  @ApiOperation({
    operationId: 'updateConfig',
    summary: 'Change settings; omitted fields keep their values',
    description: 'Every instance re-arms its schedule at once.',
  })
  @ApiOkResponse({ type: BackupConfigResponse })
  @ApiError(400, 'A field broke a validation rule, or both `schedule` and `intervalMinutes` are set')
  update(@Actor() actor: string, @Body() dto: UpdateConfigDto) {
    return this.settings.update(actor, dto);
  }
}
