package deploy

import (
	"testing"

	"github.com/rolegate/rolegate/internal/cfn"
)

func FuzzParseTemplate(f *testing.F) {
	f.Add(readTemplate(f))
	f.Add([]byte("Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties: {P: !GetAtt A.B}\n"))
	f.Add([]byte(`{"Resources": {"R": {"Type": "AWS::Lambda::Permission", "Properties": {"SourceArn": {"Fn::Sub": "${X}"}}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tmpl, err := cfn.ParseTemplate(b)
		if err != nil {
			return
		}
		Check(tmpl) // must not panic on any shape a template may take
		cfn.Resolve(tmpl, nil)
		if _, err := Package(b, PlaceholderKeys("bucket")); err != nil {
			return
		}
	})
}

func BenchmarkCheckTemplate(b *testing.B) {
	src := readTemplate(b)
	for b.Loop() {
		tmpl, err := cfn.ParseTemplate(src)
		if err != nil {
			b.Fatal(err)
		}
		if f := Check(tmpl); len(f) != 0 {
			b.Fatal(f)
		}
	}
}
