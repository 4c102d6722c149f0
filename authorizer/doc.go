// Package authorizer is an API Gateway TOKEN authorizer for Amazon Cognito ID
// tokens of one user pool. It verifies RS256 signatures against the pool's
// JWKS, checks the claims strictly, and Allows the whole stage of the calling
// API with the user's validated roles in the context for the backend.
//
// It refuses every other algorithm, keys named by the token itself, access
// tokens, and tokens of other pools or app clients: all of these get
// "Unauthorized" (401). A valid token without a usable role gets a Deny (403).
// When keys cannot be obtained, or methodArn is not understood, the answer is
// an error (500). It never Allows on doubt: an error it cannot classify is a 500.
//
// Decisions where the standards leave room, all failing closed:
//   - The token is the bare JWT or "Bearer <JWT>" (scheme in any case, one
//     space), at most MaxTokenBytes, checked before any decoding.
//   - base64url is strict: no padding, no line breaks, no non-zero trailing
//     bits, and a signature exactly as long as the modulus. A valid JWT has
//     exactly one spelling, so no mutation of it can pass.
//   - A header carrying crit, jku, x5u, jwk or x5c is refused outright, even
//     when it names the pool's own keys: keys come only from the KeySource.
//   - aud must be a JSON string (Cognito's form); an array, even of one
//     member, is refused. exp, iat and nbf must be JSON integers; a string,
//     fraction or exponent is refused, and 0 or null counts as absent.
//   - cognito:roles may be an array or a comma-separated string. When it is
//     present (even null or empty) the preferred role must be listed in it.
//     Without it, the preferred role is the only role. No role at all is a Deny.
//   - Without a preferred role (Cognito sets none when groups tie on
//     precedence) the roles are still Allowed, with preferredRole "": the
//     backend makes the caller choose one.
//   - Every role must be an IAM role ARN without ',' (the separator of the
//     context's roles, though IAM allows it in names); one that is not denies
//     the whole token, rather than guessing which roles the pool meant.
//   - email is passed on only when email_verified is true (the JSON boolean
//     or the string "true"): users can change their own email.
//   - Claims are decoded once, with encoding/json, after the signature
//     verifies: duplicate members and member-name case only matter in bytes the
//     pool signed.
//
// Valid decisions (Allow and Deny) are cached by the SHA-256 digest of the
// token for at most DefaultCacheTTL, never past the token's exp (read on the
// injected clock), and never when they hold more than MaxCachedContextBytes:
// a full cache holds about 14 MiB (DefaultCacheEntries decisions of at most
// 1.4 KiB each), whoever mints the tokens. The policy is built for the stage
// of each request's methodArn, so a token cached for one API never yields a
// policy for another.
package authorizer
