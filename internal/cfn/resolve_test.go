package cfn

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestResolve(t *testing.T) {
	tmpl, err := ParseTemplate([]byte(`
Parameters:
  Days: {Type: Number, Default: 365, AllowedValues: [30, 365]}
  Key: {Type: String, Default: "", AllowedPattern: "(arn:.*)?"}
  Ttl: {Type: String, Default: "300"}
Conditions:
  HasKey: !Not [!Equals [!Ref Key, ""]]
  NoKey: !Not [!Condition HasKey]
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: !Ref Days
      KmsKeyId: !If [HasKey, !Ref Key, !Ref AWS::NoValue]
      Tags: [!If [NoKey, {Key: k, Value: !Ref Ttl}, !Ref AWS::NoValue]]
      Arn: !GetAtt Other.Arn
  OnlyWithKey:
    Type: AWS::SNS::Topic
    Condition: HasKey
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		values map[string]string
		want   string
	}{
		{"defaults", nil, `{"Logs":{"Properties":{"Arn":{"Fn::GetAtt":["Other","Arn"]},"RetentionInDays":365,"Tags":[{"Key":"k","Value":"300"}]},"Type":"AWS::Logs::LogGroup"}}`},
		{"a value set", map[string]string{"Key": "arn:k", "Days": "30"}, `{"Logs":{"Properties":{"Arn":{"Fn::GetAtt":["Other","Arn"]},"KmsKeyId":"arn:k","RetentionInDays":30,"Tags":[]},"Type":"AWS::Logs::LogGroup"},"OnlyWithKey":{"Condition":"HasKey","Type":"AWS::SNS::Topic"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Resolve(tmpl, tt.values)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct{ Resources json.RawMessage }
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			var got, want any
			json.Unmarshal(doc.Resources, &got)
			json.Unmarshal([]byte(tt.want), &want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %s\nwant %s", doc.Resources, tt.want)
			}
		})
	}
	for _, bad := range []map[string]string{{"Nope": "x"}, {"Days": "31"}, {"Key": "not an arn"}} {
		if _, err := Resolve(tmpl, bad); err == nil {
			t.Errorf("Resolve accepted %v, which CloudFormation would refuse", bad)
		}
	}
}
