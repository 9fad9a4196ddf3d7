import { ValueTransformer } from 'typeorm';

/** pg returns bigint as string; sizes here stay far below 2^53. */
export const bigintToNumber: ValueTransformer = {
  to: (value?: number | null) => value,
  from: (value?: string | null) => (value === null || value === undefined ? value : Number(value)),
};
