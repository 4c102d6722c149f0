package deploy

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
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

// TestLayoutNamesEveryPackage: the README's layout table names every package of the module, by its path or
// a tail of it in backquotes (`internal/emf`, `emf/emftest`, `syncbuf`), so a reader finds each room.
func TestLayoutNamesEveryPackage(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	layout, _, _ := strings.Cut(string(b)[strings.Index(string(b), "## Layout"):], "\n## ")
	var named []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(layout, -1) {
		named = append(named, strings.TrimSuffix(m[1], "/"))
	}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("..", path)
		if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" || d.Name() == "build" {
			return filepath.SkipDir
		}
		gofiles, _ := filepath.Glob(filepath.Join(path, "*.go"))
		if rel == "." || len(gofiles) == 0 {
			return nil
		}
		if !slices.ContainsFunc(named, func(n string) bool { return rel == n || strings.HasSuffix(rel, "/"+n) }) {
			t.Errorf("README's layout table does not name %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
