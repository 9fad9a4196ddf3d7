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

const IsCron = () => Satisfies('isCron', cronProblem, 'a cron expression string');
const IsTimezone = () => Satisfies('isTimezone', timezoneProblem, 'an IANA time zone name');

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

  /** Instead of `schedule`: a backup every N minutes (null clears it). */
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsInt()
  @Min(1)
  @Max(525_600)
  intervalMinutes?: number | null;

  /** IANA zone of the cron expressions (null = UTC). */
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsTimezone()
  timezone?: string | null;

  /** Cron expression of restore drills of the newest completed backup (null = no drills). */
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsCron()
  drillSchedule?: string | null;

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
