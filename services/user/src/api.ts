import { openApiDocument, type OperationDoc } from '@paystream/common/openapi';
import { API_KEY_PATTERN, OPERATOR_SCOPES } from '@paystream/common/operator';
import { z } from 'zod';
import { cardSchema } from './domain/cards';
import { PASSWORD_MAX } from './domain/password';

/**
 * The user service's public HTTP contract: the zod schemas its routes validate with, and the OpenAPI
 * operations built from them (served at GET /openapi.json, merged by the gateway under /users).
 * The internal lookups (/get, /contact) are not in it: the gateway never forwards them.
 */
const email = z
  .string()
  .max(254)
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.email())
  .meta({ description: 'An email address; compared without case.', examples: ['ada@example.com'] });

export const signupBody = z.strictObject({
  email,
  password: z
    .string()
    .max(PASSWORD_MAX)
    .meta({ description: 'At least 12 characters, not a common one, not the email.' }),
  name: z.string().trim().min(1).max(200),
});
export const signinBody = z.strictObject({ email, password: z.string().min(1).max(PASSWORD_MAX) });

export const addPaymentDetailsBody = z
  .strictObject({
    userId: z.string().max(64).optional().meta({ description: 'Optional; if sent, your own id.' }),
    paymentMethodId: z
      .string()
      .regex(/^pm_[A-Za-z0-9_]{1,200}$/, 'must be a Stripe payment method id (pm_...)')
      .optional()
      .meta({
        description: 'From Stripe.js (confirmCardSetup with a SetupIntent from /users/setup-intent).',
      }),
    card: cardSchema
      .optional()
      .meta({ description: 'Raw card fields: test and development only; refused in production.' }),
  })
  .refine((b) => (b.paymentMethodId === undefined) !== (b.card === undefined), {
    message: 'send exactly one of paymentMethodId or card',
  })
  .meta({
    description: 'Exactly one of `paymentMethodId` or `card`.',
    oneOf: [{ required: ['paymentMethodId'] }, { required: ['card'] }],
  });

/** Nothing to send: an empty body or `{}`; any field is refused. */
export const setupIntentBody = z.strictObject({});

const account = z.object({ id: z.uuid(), email: z.string(), name: z.string(), createdAt: z.iso.datetime() });
const session = z.object({
  token: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().meta({ description: 'Seconds.' }),
  userId: z.uuid(),
});
const savedCard = z.object({
  id: z.string(),
  brand: z.string(),
  last4: z.string().regex(/^\d{4}$/),
  expMonth: z.number().int(),
  expYear: z.number().int(),
  isDefault: z.boolean(),
});

/** The gateway asks whether a presented API key is valid (internal). */
export const verifyKeyBody = z.strictObject({ key: z.string().regex(API_KEY_PATTERN) });

/** An operator action, as the services append it (internal). */
export const auditEntryBody = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/),
  keyId: z.string().min(1).max(40),
  keyName: z.string().max(200),
  action: z.string().regex(/^[a-z_.]{1,60}$/),
  target: z.string().min(1).max(200),
  reason: z.string().max(500).optional(),
  requestId: z.string().max(200).optional(),
  outcome: z.string().min(1).max(500),
});

export const auditQuery = z.strictObject({
  keyId: z.string().max(40).optional(),
  action: z
    .string()
    .regex(/^[a-z_.]{1,60}$/)
    .optional(),
  target: z
    .string()
    .max(200)
    .optional()
    .meta({ description: 'e.g. `order:<orderId>`, `endpoint:<id>`, `key:<id>`.' }),
  since: z.iso.datetime({ offset: true }).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/)
    .optional()
    .meta({ description: '`nextCursor` of the previous page.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const auditEntrySchema = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  keyId: z.string(),
  keyName: z.string(),
  action: z.string(),
  target: z.string(),
  reason: z.string().nullable(),
  requestId: z.string().nullable(),
  outcome: z.string(),
});

const TAG = 'Users';
const rateLimited = 'Too many attempts from this client (Retry-After).';
const operations: OperationDoc[] = [
  {
    method: 'post',
    path: '/signup',
    operationId: 'signUp',
    summary: 'Create an account',
    tag: TAG,
    auth: 'public',
    body: signupBody,
    bodyExample: { email: 'ada@example.com', password: 'correct horse battery', name: 'Ada Lovelace' },
    responses: {
      201: {
        description: 'Created.',
        body: account,
        example: {
          id: '5f0c3e4a-1d2f-4b6e-9a55-0b7f7a0e6a3b',
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          createdAt: '2026-11-25T10:00:00.000Z',
        },
      },
    },
    problems: {
      400: 'Invalid body or a weak password.',
      409: 'An account with this email exists.',
      429: rateLimited,
    },
  },
  {
    method: 'post',
    path: '/signin',
    operationId: 'signIn',
    summary: 'Sign in for a bearer token',
    tag: TAG,
    auth: 'public',
    body: signinBody,
    bodyExample: { email: 'ada@example.com', password: 'correct horse battery' },
    responses: {
      200: {
        description: 'A token for the Authorization header.',
        body: session,
        example: {
          token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…',
          tokenType: 'Bearer',
          expiresIn: 900,
          userId: '5f0c3e4a-1d2f-4b6e-9a55-0b7f7a0e6a3b',
        },
      },
    },
    problems: {
      400: 'Invalid body.',
      401: 'Wrong email or password (the same answer for both).',
      429: rateLimited,
      503: 'Too many sign-ins at once; try again shortly (Retry-After).',
    },
  },
  {
    method: 'post',
    path: '/setup-intent',
    operationId: 'createSetupIntent',
    summary: 'Start saving a card with Stripe.js (SetupIntent, 3-D Secure ready)',
    tag: TAG,
    auth: 'user',
    body: setupIntentBody,
    bodyOptional: true,
    bodyExample: {},
    responses: {
      201: {
        description: 'Give `clientSecret` to Stripe.js confirmCardSetup; register the pm_… it yields.',
        body: z.object({ clientSecret: z.string(), setupIntentId: z.string() }),
      },
    },
    problems: {
      400: 'A body with fields.',
      404: 'The account is gone.',
      502: 'Stripe is unavailable; try again.',
    },
  },
  {
    method: 'post',
    path: '/add',
    operationId: 'addPaymentDetails',
    summary: 'Save a card as your default payment method',
    tag: TAG,
    auth: 'user',
    body: addPaymentDetailsBody,
    bodyExample: { card: { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2034, cvc: '123' } },
    responses: {
      201: {
        description: 'Saved; only brand and last 4 are kept.',
        body: savedCard,
        example: { id: 'a3b5…', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034, isDefault: true },
      },
    },
    problems: {
      400: 'Invalid body, or Stripe refused the card details.',
      402: 'The card was declined.',
      403: 'A userId that is not yours.',
      404: 'The account is gone.',
      429: 'Too many cards tried (Retry-After).',
      502: 'Stripe is unavailable; try again.',
    },
  },
  {
    method: 'get',
    path: '/admin/key',
    operationId: 'currentApiKey',
    summary: 'The API key making the request: its id, name and scopes',
    tag: TAG,
    auth: 'operator',
    problems: {},
    responses: {
      200: {
        description: 'The key (never its secret).',
        body: z.object({ id: z.string(), name: z.string(), scopes: z.array(z.enum(OPERATOR_SCOPES)) }),
      },
    },
  },
  {
    method: 'get',
    path: '/admin/audit',
    operationId: 'listAudit',
    summary: 'The audit log: who did what, to what, why, with what outcome',
    description:
      'Every operator action (refunds, captures, voids, replays, webhook endpoints, drift resolved) and every API key ' +
      'made or revoked, newest first. Append-only: no API changes or deletes an entry.',
    tag: TAG,
    auth: 'operator',
    scope: 'audit:read',
    query: auditQuery,
    responses: {
      200: {
        description: 'One page; `nextCursor` is null on the last.',
        body: z.object({ entries: z.array(auditEntrySchema), nextCursor: z.string().nullable() }),
      },
    },
    problems: { 400: 'Invalid query.' },
  },
];

export const userApi = openApiDocument({ title: 'Paystream users', version: '1' }, operations);
