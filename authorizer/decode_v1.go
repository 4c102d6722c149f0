//go:build !goexperiment.jsonv2

package authorizer

import "encoding/json"

// unmarshal decodes JSON with encoding/json when GOEXPERIMENT=jsonv2 is off
// (plain go test, go vet). Slower, and laxer than v2: duplicate members are
// last-wins and names match case-insensitively. That only affects bytes the
// pool signed: claims are decoded after the signature verifies, and the header,
// decoded before, is covered by the same signature and only picks the kid.
func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
