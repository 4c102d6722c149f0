package rie_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rolegate/rolegate/internal/local/rie"
)

func TestModuleRoot(t *testing.T) {
	root, err := rie.ModuleRoot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy", "template.yaml")); err != nil {
		t.Errorf("root %s has no deploy/template.yaml", root)
	}
	t.Chdir(t.TempDir())
	t.Setenv("GOFLAGS", "")
	if _, err := rie.ModuleRoot(t.Context()); err == nil {
		t.Error("a directory outside the repository was accepted")
	}
}
