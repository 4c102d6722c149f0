package cfn

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseTemplateLongForms(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want any
	}{
		{"!Ref becomes Ref", `!Ref Api`, map[string]any{"Ref": "Api"}},
		{"!GetAtt with a dot becomes a two-item list", `!GetAtt Role.Arn`, map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}}},
		{"!GetAtt keeps later dots in the attribute", `!GetAtt Stack.Outputs.Url`, map[string]any{"Fn::GetAtt": []any{"Stack", "Outputs.Url"}}},
		{"!GetAtt as a list stays a list", `!GetAtt [Role, Arn]`, map[string]any{"Fn::GetAtt": []any{"Role", "Arn"}}},
		{"!Sub string", `!Sub "${AWS::StackName}-x"`, map[string]any{"Fn::Sub": "${AWS::StackName}-x"}},
		{"!Sub with variables", `!Sub ["${A}", {A: !Ref B}]`, map[string]any{"Fn::Sub": []any{"${A}", map[string]any{"A": map[string]any{"Ref": "B"}}}}},
		{"!Join nests other short forms", `!Join [",", [!GetAtt A.Arn, !Ref B]]`, map[string]any{"Fn::Join": []any{",", []any{
			map[string]any{"Fn::GetAtt": []any{"A", "Arn"}}, map[string]any{"Ref": "B"},
		}}}},
		{"!If and !Equals", `!If [C, !Equals [!Ref P, "true"], no]`, map[string]any{"Fn::If": []any{"C",
			map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "P"}, "true"}}, "no"}}},
		{"!Condition stays Condition", `!Condition IsProd`, map[string]any{"Condition": "IsProd"}},
		{"!Ref of a number-looking name stays a string", `!Ref 300`, map[string]any{"Ref": "300"}},
		{"long form passes through", `{"Fn::GetAtt": ["A", "Arn"]}`, map[string]any{"Fn::GetAtt": []any{"A", "Arn"}}},
		{"a literal stays literal", `"'application/json'"`, "'application/json'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := ParseTemplate([]byte("Resources:\n  R:\n    Type: X\n    Properties:\n      P: " + tt.yaml + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			r, _ := tmpl.Resource("R")
			if got := r.Properties["P"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseTemplateRefusesNonTemplates(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"a list is not a template", "- a\n- b\n", "not a YAML or JSON mapping"},
		{"no resources", "Parameters: {}\n", "no Resources"},
		{"resources that are not a mapping", "Resources: [a]\n", "Resources is not a mapping"},
		{"!GetAtt without an attribute", "Resources:\n  R:\n    Type: X\n    Properties: {P: !GetAtt Role}\n", "not Resource.Attribute"},
		{"broken YAML", "Resources: {\n", "template:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTemplate([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseTemplateReadsJSON(t *testing.T) {
	tmpl, err := ParseTemplate([]byte(`{"Resources": {"Api": {"Type": "AWS::ApiGateway::RestApi", "DependsOn": "X"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := tmpl.Resource("Api")
	if !ok || r.Type != "AWS::ApiGateway::RestApi" || !reflect.DeepEqual(r.DependsOn, []string{"X"}) || r.Properties == nil {
		t.Fatalf("got %+v", r)
	}
}

// TestTemplateHelpers reads the real template the way the local gateway
// does: groups with their roles, the authorizer's settings and defaults.
func TestTemplateHelpers(t *testing.T) {
	b, err := os.ReadFile("../../deploy/template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := ParseTemplate(b)
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]string{}
	for _, g := range tmpl.ResourcesOfType("AWS::Cognito::UserPoolGroup") {
		role, _, _ := GetAttTarget(g.Properties["RoleArn"])
		groups[g.Properties["GroupName"].(string)] = role
	}
	if want := map[string]string{"admins": "AdminsRole", "readers": "ReadersRole"}; !reflect.DeepEqual(groups, want) {
		t.Errorf("groups = %v, want %v", groups, want)
	}

	auth := tmpl.ResourcesOfType("AWS::ApiGateway::Authorizer")
	if len(auth) != 1 {
		t.Fatalf("%d authorizers, want 1", len(auth))
	}
	if ttl, ok := tmpl.ResolveDefault(auth[0].Properties["AuthorizerResultTtlInSeconds"]); !ok || ttl != "300" {
		t.Errorf("authorizer TTL resolves to %#v, %v; want \"300\"", ttl, ok)
	}
	if v, ok := tmpl.ResolveDefault(map[string]any{"Ref": "UserPool"}); ok {
		t.Errorf("a resource Ref resolved to %v; only parameters have defaults", v)
	}
	if v, ok := tmpl.ResolveDefault("literal"); !ok || v != "literal" {
		t.Errorf("a literal resolved to %v, %v", v, ok)
	}

	role, _ := tmpl.Resource("AdminsRole")
	var got []string
	for _, r := range References(role.Properties["RoleName"]) {
		got = append(got, r.Target)
	}
	if want := []string{"AWS::StackName", "AWS::Region"}; !reflect.DeepEqual(got, want) {
		t.Errorf("RoleName references %v, want %v", got, want)
	}
	if got := SubVariables("a${X}b${!Literal}${Y.Arn}${AWS::Region}"); !reflect.DeepEqual(got, []string{"X", "Y.Arn", "AWS::Region"}) {
		t.Errorf("SubVariables = %v", got)
	}
}
