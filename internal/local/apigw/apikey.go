package apigw

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strconv"

	"github.com/rolegate/rolegate/internal/cfn"
)

// APIKey is an API key a method that requires one (ApiKeyRequired) accepts
// in its X-API-Key header: an enabled AWS::ApiGateway::ApiKey that an
// AWS::ApiGateway::UsagePlanKey puts in a usage plan of this stage. Without
// such a key API Gateway answers 403 Forbidden (developer guide, "Choose an
// API key source": "the caller receives a 403 Forbidden response").
type APIKey struct {
	Name  string // the template's logical ID
	ID    string // a stand-in for the id API Gateway assigns
	Value string
	// Generated means the template sets no Value: CloudFormation generates
	// one, so the local gateway does too, and start-up prints it.
	Generated bool
}

// API key values API Gateway accepts: 20 to 128 characters.
const (
	minAPIKeyLength = 20
	maxAPIKeyLength = 128
)

// apiKeys reads the keys of the stage's usage plans.
func (rd apiReader) apiKeys() error {
	plans := map[string]bool{}
	for _, p := range rd.r.Template.ResourcesOfType("AWS::ApiGateway::UsagePlan") {
		for i, raw := range cfn.List(p.Properties["ApiStages"]) {
			as, _ := raw.(map[string]any)
			stage, err := rd.stageName(as["Stage"])
			if err != nil {
				return fmt.Errorf("usage plan %s ApiStages[%d] Stage: %w", p.Name, i, err)
			}
			if stage == rd.a.Config.Stage {
				plans[p.Name] = true
			}
		}
	}
	keys := map[string]bool{}
	for _, k := range rd.r.Template.ResourcesOfType("AWS::ApiGateway::UsagePlanKey") {
		plan, _ := cfn.RefTarget(k.Properties["UsagePlanId"])
		key, ok := cfn.RefTarget(k.Properties["KeyId"])
		if !ok {
			return fmt.Errorf("usage plan key %s: KeyId is not !Ref of an ApiKey", k.Name)
		}
		if plans[plan] {
			keys[key] = true
		}
	}
	for _, k := range rd.r.Template.ResourcesOfType("AWS::ApiGateway::ApiKey") {
		if !keys[k.Name] {
			continue
		}
		if v, ok := k.Properties["Enabled"]; ok {
			s, err := rd.r.String(v)
			if err != nil {
				return fmt.Errorf("API key %s Enabled: %w", k.Name, err)
			}
			if enabled, err := strconv.ParseBool(s); err != nil || !enabled {
				continue // a disabled key opens nothing
			}
		}
		key := APIKey{Name: k.Name, ID: apiKeyID(k.Name)}
		if v, ok := k.Properties["Value"]; ok {
			var err error
			if key.Value, err = rd.r.String(v); err != nil {
				return fmt.Errorf("API key %s Value: %w", k.Name, err)
			}
			if n := len(key.Value); n < minAPIKeyLength || n > maxAPIKeyLength {
				return fmt.Errorf("API key %s Value: %d characters, API Gateway takes 20 to 128", k.Name, n)
			}
		} else {
			key.Value, key.Generated = rand.Text(), true
		}
		rd.a.Config.APIKeys = append(rd.a.Config.APIKeys, key)
	}
	return nil
}

// stageName reads a usage plan's Stage: a literal, a parameter or !Ref of the
// template's Stage resource (its StageName).
func (rd apiReader) stageName(v any) (string, error) {
	if name, ok := cfn.RefTarget(v); ok {
		if st, ok := rd.r.Template.Resource(name); ok && st.Type == "AWS::ApiGateway::Stage" {
			return rd.r.String(st.Properties["StageName"])
		}
	}
	return rd.r.String(v)
}

// apiKeyID is a stable stand-in for the 10-character id API Gateway gives a
// key.
func apiKeyID(name string) string {
	sum := sha256.Sum256([]byte("apikey:" + name))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	id := make([]byte, 10)
	for i := range id {
		id[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(id)
}

// apiKeyFor returns the key a request presented, if the stage accepts it.
func (g *Gateway) apiKeyFor(presented string) (APIKey, bool) {
	for _, k := range g.cfg.APIKeys {
		if subtle.ConstantTimeCompare([]byte(k.Value), []byte(presented)) == 1 {
			return k, true
		}
	}
	return APIKey{}, false
}
