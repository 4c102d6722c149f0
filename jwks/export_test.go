package jwks

// Internals the external tests (package jwks_test) check against.
var (
	ParseKey = parseKey

	ErrMalformed = errMalformed
	ErrNotRSA    = errNotRSA
	ErrPrivate   = errPrivate
	ErrNoKid     = errNoKid
	ErrUse       = errUse
	ErrAlg       = errAlg
	ErrKeyOps    = errKeyOps
	ErrExponent  = errExponent
	ErrModulus   = errModulus
	ErrTooLarge  = errTooLarge
)

type StatusError = statusError

func (e *statusError) Code() int { return e.code }
