import jwt from 'jsonwebtoken';
import { signUserToken, verifyUserToken } from '../../src/auth';
import { HttpProblem } from '../../src/problem';

const SECRET = 'unit-test-secret-0123456789abcdefghijkl';
const claims = {
  subject: 'user-1',
  issuer: 'paystream-user',
  audience: 'paystream',
  algorithm: 'HS256',
} as const;

const refusal = (token: string) => {
  try {
    verifyUserToken(SECRET, token);
  } catch (err) {
    return err instanceof HttpProblem ? `${err.status} ${err.detail}` : String(err);
  }
  return 'accepted';
};

describe('verifyUserToken', () => {
  it('accepts the tokens the user service signs', () => {
    expect(verifyUserToken(SECRET, signUserToken(SECRET, 'user-1'))).toBe('user-1');
  });

  it('refuses a correctly signed token without exp: it would never expire', () => {
    expect(refusal(jwt.sign({}, SECRET, claims))).toBe('401 Invalid token');
  });

  it('refuses an expired token, another key, another algorithm, and alg none', () => {
    expect(refusal(jwt.sign({}, SECRET, { ...claims, expiresIn: -10 }))).toBe('401 Token expired');
    expect(refusal(signUserToken('another-secret-0123456789abcdefghijkl', 'user-1'))).toBe(
      '401 Invalid token',
    );
    expect(refusal(jwt.sign({}, SECRET, { ...claims, algorithm: 'HS512', expiresIn: 60 }))).toBe(
      '401 Invalid token',
    );
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ sub: 'user-1', iss: 'paystream-user', aud: 'paystream', exp: 9999999999 }),
    ).toString('base64url')}.`;
    expect(refusal(none)).toBe('401 Invalid token');
  });
});
