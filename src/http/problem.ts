import { STATUS_CODES } from 'node:http';

/**
 * RFC 9457 problem details. Every refusal leaves the service in this shape; `detail` is written
 * for people and never carries a secret, a code or personal data.
 */
export interface InvalidField {
  readonly field: string;
  readonly message: string;
}

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly errors?: readonly InvalidField[];
  readonly [extension: string]: unknown;
}

/** RFC 9110 reason phrases (Node's table still says "Unprocessable Entity" and "Payload Too Large"). */
const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class Problem extends Error {
  override readonly name = 'Problem';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly extensions: { errors?: readonly InvalidField[]; headers?: Readonly<Record<string, string>>; [key: string]: unknown } = {},
  ) {
    super(detail);
  }

  body(): ProblemBody {
    const { headers: _headers, ...extensions } = this.extensions;
    return {
      type: `urn:two-factor:problem:${this.code}`,
      title: TITLES[this.status] ?? STATUS_CODES[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      code: this.code,
      ...extensions,
    };
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
