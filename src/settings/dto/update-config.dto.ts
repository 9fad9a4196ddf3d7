import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  Max,
  Min,
  registerDecorator,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
} from 'class-validator';
import { Compression, COMPRESSIONS } from '../../pipeline/backup-format';
import { cronProblem, timezoneProblem } from '../cron';

/** A string that `problem` finds nothing wrong with; its message otherwise. */
function Satisfies(name: string, problem: (value: string) => string | null, expected: string): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && problem(value) === null,
        defaultMessage: (args?: ValidationArguments) =>
          typeof args?.value === 'string' ? `${args.property}: ${problem(args.value) ?? ''}` : `${args?.property} must be ${expected}`,
      },
    });
}

/** Like @IsOptional, but null is validated (and refused) for fields that cannot be cleared. */
const IsPresentOrOmitted = () => ValidateIf((_, value) => value !== undefined);
const IsCron = () => Satisfies('isCron', cronProblem, 'a cron expression string');
const IsTimezone = () => Satisfies('isTimezone', timezoneProblem, 'an IANA time zone name');

/** The retention policy; a backup kept by any rule stays, and so do pinned and safety backups and the newest. */
export class RetentionDto {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100_000, description: 'Always keep the newest N completed backups' })
  @IsInt()
  @Min(0)
  @Max(100_000)
  keepLast!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 36_500, description: 'Keep everything younger than this many days (0 = no age rule)' })
  @IsInt()
  @Min(0)
  @Max(36_500)
  maxAgeDays!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 3660, description: 'Keep the newest backup of each of the last N days (UTC)' })
  @IsInt()
  @Min(0)
  @Max(3660)
  daily!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 520, description: 'Keep the newest backup of each of the last N ISO weeks' })
  @IsInt()
  @Min(0)
  @Max(520)
  weekly!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: 1200, description: 'Keep the newest backup of each of the last N months' })
  @IsInt()
  @Min(0)
  @Max(1200)
  monthly!: number;
}

/** Writable fields of the persisted config; omitted ones keep their values. */
export class UpdateConfigDto {
  @ApiPropertyOptional({ description: 'Scheduled backups and drills run only when enabled' })
  @IsPresentOrOmitted()
  @IsBoolean()
  enabled?: boolean;

  /** null clears the schedule. */
  @ApiPropertyOptional({ type: String, nullable: true, example: '0 3 * * *', description: 'Cron expression of scheduled backups, 5 fields or 6 (seconds first); null clears it' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsCron()
  schedule?: string | null;

  /** Instead of `schedule`: a backup every N minutes (null clears it). */
  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, maximum: 525_600, description: 'Instead of `schedule`: a backup every N minutes; null clears it' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsInt()
  @Min(1)
  @Max(525_600)
  intervalMinutes?: number | null;

  /** IANA zone of the cron expressions (null = UTC). */
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Europe/Berlin', description: 'IANA time zone of the cron expressions; null = UTC' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsTimezone()
  timezone?: string | null;

  /** Cron expression of restore drills of the newest completed backup (null = no drills). */
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Cron expression of restore drills of the newest completed backup; null = no drills' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsCron()
  drillSchedule?: string | null;

  @ApiPropertyOptional({ type: () => RetentionDto })
  @IsPresentOrOmitted()
  @IsObject()
  @ValidateNested()
  @Type(() => RetentionDto)
  retention?: RetentionDto;

  /** null turns archiving off. */
  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, maximum: 36_500, description: 'Move completed backups older than this many days into daily ZIP archives; null turns archiving off' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsInt()
  @Min(1)
  @Max(36_500)
  archiveAfterDays?: number | null;

  @ApiPropertyOptional({ enum: COMPRESSIONS, enumName: 'Compression', description: 'Compression of new backups' })
  @IsPresentOrOmitted()
  @IsIn(COMPRESSIONS)
  compression?: Compression;

  @ApiPropertyOptional({ description: 'Verify every new backup in full right after it is written' })
  @IsPresentOrOmitted()
  @IsBoolean()
  verifyAfterCreate?: boolean;

  /** null turns the periodic scrub off. */
  @ApiPropertyOptional({ type: 'integer', nullable: true, minimum: 1, maximum: 8760, description: 'Re-verify every completed backup this often; null turns the scrub off' })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsInt()
  @Min(1)
  @Max(8760)
  scrubIntervalHours?: number | null;
}
