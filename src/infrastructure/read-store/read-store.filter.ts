import type { Filter, FieldCondition, Scalar } from '../../ports/read-store.port.js';
import { assertFieldPath } from './read-store.names.js';

/**
 * A filter validated once and reduced to a small vocabulary that each adapter compiles.
 * Validation lives here so that every adapter refuses exactly the same inputs: an operator one
 * adapter ignores while the other honours would make the contract meaningless.
 */
export type RangeOperator = 'gt' | 'gte' | 'lt' | 'lte';

export type Condition =
  | { readonly op: 'eq'; readonly value: Scalar }
  | { readonly op: 'ne'; readonly value: Scalar }
  | { readonly op: 'in'; readonly values: readonly Scalar[] }
  | { readonly op: RangeOperator; readonly value: string | number }
  | { readonly op: 'exists'; readonly value: boolean };

export interface FieldPredicate {
  readonly path: string;
  readonly conditions: readonly Condition[];
}

const MAX_IN_VALUES = 10_000;

export function parseFilter(filter: Filter): FieldPredicate[] {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new TypeError('read store: a filter is an object of field conditions');
  }
  return Object.entries(filter).map(([path, condition]) => {
    assertFieldPath(path);
    return { path, conditions: parseCondition(path, condition) };
  });
}

function parseCondition(path: string, condition: Scalar | FieldCondition): Condition[] {
  if (isScalar(condition)) return [{ op: 'eq', value: condition }];
  if (typeof condition !== 'object' || Array.isArray(condition)) throw invalid(path, 'condition');
  const entries = Object.entries(condition);
  // `{}` would mean "equals the empty object" to MongoDB; refusing it keeps the adapters aligned.
  if (entries.length === 0) throw invalid(path, 'empty condition');
  return entries.map(([operator, operand]) => parseOperator(path, operator, operand));
}

function parseOperator(path: string, operator: string, operand: unknown): Condition {
  switch (operator) {
    case '$eq':
      if (!isScalar(operand)) throw invalid(path, operator);
      return { op: 'eq', value: operand };
    case '$ne':
      if (!isScalar(operand)) throw invalid(path, operator);
      return { op: 'ne', value: operand };
    case '$in':
      if (!Array.isArray(operand) || operand.length > MAX_IN_VALUES || !operand.every(isScalar)) {
        throw invalid(path, operator);
      }
      return { op: 'in', values: [...(operand as Scalar[])] };
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
      if (!isOrderable(operand)) throw invalid(path, operator);
      return { op: operator.slice(1) as RangeOperator, value: operand };
    case '$exists':
      if (typeof operand !== 'boolean') throw invalid(path, operator);
      return { op: 'exists', value: operand };
    default:
      throw invalid(path, `operator ${JSON.stringify(operator.slice(0, 20))}`);
  }
}

export function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || isFiniteNumber(value);
}

function isOrderable(value: unknown): value is string | number {
  return typeof value === 'string' || isFiniteNumber(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Names the field and the operator only: filter values may be personal data. */
function invalid(path: string, what: string): TypeError {
  return new TypeError(`read store: invalid ${what} on field ${path}`);
}
