import { ApiProperty } from '@nestjs/swagger';
import type { Described } from '../../openapi/described';
import { PERMISSION_LEVELS } from '../permissions';
import type { Me } from '../me.controller';

export class MeResponse implements Described<Me> {
  @ApiProperty({ description: "The token's subject, as the audit log names it" })
  sub!: string;

  @ApiProperty({ enum: ['viewer', 'operator', 'admin'], enumName: 'AccessLevel', description: 'The highest level any of its roles grants' })
  level!: string;

  @ApiProperty({
    enum: Object.keys(PERMISSION_LEVELS),
    enumName: 'Permission',
    isArray: true,
    description: "Everything this token may do; each operation names the permission it needs (`x-required-permission`)",
  })
  permissions!: string[];
}
