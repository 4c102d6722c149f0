// Package authorizer is an API Gateway TOKEN authorizer for Amazon Cognito ID
// tokens of one user pool. It verifies RS256 signatures against the pool's
// JWKS, checks the claims strictly, and Allows the whole stage of the calling
// API with the user's cognito:preferred_role in the context for the backend.
//
// It refuses every other algorithm, keys named by the token itself, access
// tokens, and tokens of other pools or app clients: all of these get
// "Unauthorized" (401). A valid token without a usable role gets a Deny (403).
// When keys cannot be obtained, or methodArn is not understood, the answer is
// an error (500). It never Allows on doubt.
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
//   - Claims are decoded once, after the signature verifies, with
//     encoding/json/v2 when built with GOEXPERIMENT=jsonv2 (duplicate members
//     are then refused) and encoding/json otherwise.
//
// Valid decisions (Allow and Deny) are cached by token for at most
// DefaultCacheTTL and never past the token's exp, read on the injected clock.
// The policy is built for the stage of each request's methodArn (a decision
// keeps the one it built last), so a token cached for one API never yields a
// policy for another. A cache hit allocates nothing: the response it returns
// is shared with the cache, and callers must not modify it.
package authorizer
