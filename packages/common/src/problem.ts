import type { ZodError } from 'zod';

/**
 * RFC 9457 problem details. `type` is a stable URI per kind of problem so clients can branch on it;
 * `title` is the same for every instance of a type; `detail` explains this occurrence.
 */
export const PROBLEM_BASE = 'https://paystream.dev/problems/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface FieldError {
  field: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

const TITLES: Record<string, string> = {
  'validation-error': 'Request validation failed',
  'invalid-json': 'Request body is not valid JSON',
  'unsupported-media-type': 'Unsupported media type',
  'payload-too-large': 'Request body too large',
  'not-found': 'Resource not found',
  'method-not-allowed': 'Method not allowed',
  'request-timeout': 'Request not received in time',
  unauthorized: 'Authentication required',
  forbidden: 'Forbidden',
  conflict: 'Conflict',
  'rate-limited': 'Too many requests',
  'bad-gateway': 'Upstream service unavailable',
  'gateway-timeout': 'Upstream service timed out',
  'payment-provider-error': 'Payment provider error',
  'card-declined': 'Card declined',
  'refund-refused': 'Refund refused',
  'payment-refused': 'Not possible for this payment',
  'service-unavailable': 'Service temporarily unavailable',
  'internal-error': 'Internal server error',
};

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? TITLES[slug] ?? slug);
    this.name = 'HttpProblem';
  }

  toBody(instance?: string): ProblemBody {
    return {
      type: PROBLEM_BASE + this.slug,
      title: TITLES[this.slug] ?? this.slug,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export const problems = {
  validation: (errors: FieldError[], detail = 'One or more fields are invalid') =>
    new HttpProblem(400, 'validation-error', detail, { errors }),
  notFound: (detail?: string) => new HttpProblem(404, 'not-found', detail),
  /** 405: the path exists, not with this method; `allow` goes out as the Allow header. */
  methodNotAllowed: (allow: string[]) =>
    new HttpProblem(405, 'method-not-allowed', `This path takes ${allow.join(', ')}`, { allow }),
  unauthorized: (detail?: string) => new HttpProblem(401, 'unauthorized', detail),
  forbidden: (detail?: string) => new HttpProblem(403, 'forbidden', detail),
  conflict: (detail?: string) => new HttpProblem(409, 'conflict', detail),
  rateLimited: (retryAfterSeconds: number, detail?: string) =>
    new HttpProblem(429, 'rate-limited', detail, { retryAfter: retryAfterSeconds }),
  unavailable: (detail?: string, retryAfterSeconds = 1) =>
    new HttpProblem(503, 'service-unavailable', detail, { retryAfter: retryAfterSeconds }),
};

export function fieldErrorsFromZod(error: ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join('.') : '(body)',
    message: issue.message,
  }));
}
