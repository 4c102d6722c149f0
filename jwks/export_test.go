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

// Settle waits for the fetch in flight, if any: a refresh runs in the background, and a test counts its fetch only
// once it is done.
func (c *Cache) Settle() {
	c.mu.Lock()
	call := c.inflight
	c.mu.Unlock()
	if call != nil {
		<-call.done
	}
}

// InFlight reports whether a fetch is running.
func (c *Cache) InFlight() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight != nil
}
