package local_test

import (
	"path/filepath"
	"testing"

	"github.com/projectatomic/atomic-site/internal/store/local"
	"github.com/projectatomic/atomic-site/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := local.New(filepath.Join(t.TempDir(), "mirror"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
