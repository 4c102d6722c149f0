package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// repoPath matches a path into the repository as the template and README
// write it: docs/deploy.md, deploy/smoke.sh, cmd/rolegate-check, ...
var repoPath = regexp.MustCompile(`\b(?:docs|deploy|cmd|internal|testdata|authorizer|backend|jwks)/[A-Za-z0-9_./-]*[A-Za-z0-9_]`)

// TestNamedFilesExist: every file the template or the README names exists,
// so neither sends a reader to a page that is not there.
func TestNamedFilesExist(t *testing.T) {
	for _, doc := range []string{"deploy/template.yaml", "deploy/http-api.yaml", "README.md", "docs/deploy.md", "docs/operate.md", "docs/front-doors.md"} {
		b, err := os.ReadFile(filepath.Join("..", doc))
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		var seen []string
		for _, p := range repoPath.FindAllString(string(b), -1) {
			if slices.Contains(seen, p) {
				continue
			}
			seen = append(seen, p)
			if _, err := os.Stat(filepath.Join("..", p)); err != nil {
				t.Errorf("%s names %s, which does not exist", doc, p)
			}
		}
		if len(seen) == 0 && doc != "docs/operate.md" {
			t.Errorf("%s names no repository path: is the pattern still right?", doc)
		}
	}
}
