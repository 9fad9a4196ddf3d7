import { ValidateIf } from 'class-validator';

/** Like @IsOptional, but null is validated (and refused) for fields that cannot be cleared. */
export const IsPresentOrOmitted = () => ValidateIf((_, value) => value !== undefined);
