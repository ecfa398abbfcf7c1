import { z } from 'zod';
import { isValidId } from '../kernel/ids.js';

export const idField = z.string().refine(isValidId, 'letters, digits and . _ : - only, at most 128 characters');
