package dirstore_test

import (
	"path/filepath"
	"testing"

	"github.com/projectatomic/atomic-site/internal/dirstore"
	"github.com/projectatomic/atomic-site/internal/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		s, err := dirstore.New(filepath.Join(t.TempDir(), "mirror"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
