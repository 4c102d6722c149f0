// Package envvar reads a Lambda function's environment the same way for every
// function: a duration is a Go duration or a whole number of seconds, and every
// error names its variable first, as NAME="value": want ... or NAME: required.
// It holds no state and reads no environment itself; main passes os.Getenv.
package envvar

import (
	"fmt"
	"strconv"
	"time"
)

// Duration reads v as a Go duration ("90s", "15m") or a whole number of
// seconds ("900", as STS's DurationSeconds counts), for variable name.
func Duration(name, v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, Invalid(name, v, "a duration such as 90s or 15m, or a number of seconds")
	}
	return d, nil
}

// Invalid is the error for variable name holding value: NAME="value": want ...
func Invalid(name, value, want string) error {
	return fmt.Errorf("%s=%q: want %s", name, value, want)
}

// Required is the error for variable name left unset: NAME: required (what).
func Required(name, what string) error {
	return fmt.Errorf("%s: required (%s)", name, what)
}
