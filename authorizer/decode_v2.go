//go:build goexperiment.jsonv2

package authorizer

import (
	"encoding/json/jsontext"
	"encoding/json/v2"
)

// unmarshal decodes JSON with encoding/json/v2, the faster decoder on the hot
// path. Its defaults are the strict ones we want: duplicate member names,
// invalid UTF-8 and trailing data are errors, and member names match exactly.
func unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// UnmarshalJSONFrom implements json.UnmarshalerFrom: it streams from the
// decoder instead of re-reading the value as UnmarshalJSON would.
func (p *present) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	*p = true
	return d.SkipValue()
}

// UnmarshalJSONFrom implements json.UnmarshalerFrom with the rules of UnmarshalJSON.
func (r *roleList) UnmarshalJSONFrom(d *jsontext.Decoder) error {
	r.present, r.arns = true, r.arns[:0]
	switch d.PeekKind() {
	case 'n':
		r.arns = nil
		return d.SkipValue()
	case '"':
		var s string
		if err := json.UnmarshalDecode(d, &s); err != nil {
			return err
		}
		r.arns = splitRoles(r.arns, s)
		return nil
	}
	return json.UnmarshalDecode(d, &r.arns)
}
