package envvar_test

import (
	"testing"
	"time"

	"github.com/rolegate/rolegate/internal/envvar"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"60", time.Minute, true},
		{"900", 15 * time.Minute, true},
		{"60s", time.Minute, true},
		{"15m", 15 * time.Minute, true},
		{"0", 0, true},
		{"-1", -time.Second, true}, // the caller's range check refuses it, naming the variable
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999", 0, false},
	}
	for _, tt := range tests {
		d, err := envvar.Duration("X", tt.in)
		if (err == nil) != tt.ok || d != tt.want {
			t.Errorf("Duration(%q) = %v, %v; want %v, ok %v", tt.in, d, err, tt.want, tt.ok)
		}
		if err != nil && err.Error() != `X="`+tt.in+`": want a duration such as 90s or 15m, or a number of seconds` {
			t.Errorf("Duration(%q) error %q does not name X first", tt.in, err)
		}
	}
}
