import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  Max,
  Min,
  registerDecorator,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
} from 'class-validator';
import { Compression, COMPRESSIONS } from '../../pipeline/backup-format';
import { cronProblem } from '../cron';


function IsCron(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCron',
      target: target.constructor,
      propertyName: propertyName as string,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && cronProblem(value) === null,
        defaultMessage: (args?: ValidationArguments) =>
          typeof args?.value === 'string' ? (cronProblem(args.value) ?? '') : `${args?.property} must be a cron expression string`,
      },
    });
}

export class RetentionDto {
  @IsInt()
  @Min(0)
  @Max(100_000)
  keepLast!: number;

  @IsInt()
  @Min(0)
  @Max(36_500)
  maxAgeDays!: number;

  @IsInt()
  @Min(0)
  @Max(3660)
  daily!: number;

  @IsInt()
  @Min(0)
  @Max(520)
  weekly!: number;

  @IsInt()
  @Min(0)
  @Max(1200)
  monthly!: number;
}

/** Writable fields of the persisted config; omitted ones keep their values. */
export class UpdateConfigDto {
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /** null clears the schedule. */
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsCron()
  schedule?: string | null;

  @IsOptional()
  @ValidateNested()
  @Type(() => RetentionDto)
  retention?: RetentionDto;

  /** null turns archiving off. */
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsInt()
  @Min(1)
  @Max(36_500)
  archiveAfterDays?: number | null;

  @IsOptional()
  @IsIn(COMPRESSIONS)
  compression?: Compression;

  @IsOptional()
  @IsBoolean()
  verifyAfterCreate?: boolean;

  /** null turns the periodic scrub off. */
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsInt()
  @Min(1)
  @Max(8760)
  scrubIntervalHours?: number | null;
}
