import { z } from 'zod';
import { isPosition } from '../kernel/position.js';

export const minPositionField = z
  .string()
  .refine(isPosition, 'a position returned by a command')
  .optional();
