// Package syncbuf provides a bytes.Buffer that is safe for concurrent use, for
// collecting the output of processes and loggers that write from several
// goroutines while a test reads it, and for waiting until a line has arrived.
package syncbuf

import (
	"bytes"
	"sync"
	"time"
)

// Buffer is a bytes.Buffer guarded by a mutex. The zero value is ready to use.
type Buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed by the next Write; nil when nobody waits
}

// Write appends p to the buffer and wakes whoever waits in WaitFor.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

// String returns the contents written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Len returns the number of bytes written so far.
func (s *Buffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

// WaitFor returns the contents as soon as done reports true of them, checking
// after every Write, and true. When timeout passes first it returns the
// contents then, and false. Output that reaches a test behind the answer it
// waits on (a process's pipe, a logger) is waited for, not slept on.
func (s *Buffer) WaitFor(timeout time.Duration, done func(contents string) bool) (string, bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		out := s.b.String()
		if done(out) {
			s.mu.Unlock()
			return out, true
		}
		if s.written == nil {
			s.written = make(chan struct{})
		}
		written := s.written
		s.mu.Unlock()
		select {
		case <-written:
		case <-timer.C:
			return s.String(), false
		}
	}
}
