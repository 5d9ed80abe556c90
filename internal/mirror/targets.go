package mirror

import (
	"fmt"
	"os"

	"github.com/projectatomic/atomic-site/internal/tomlfile"
)

// Target is one destination of a targets file (mirror sync --config).
type Target struct {
	Name     string `toml:"name"`
	Endpoint string `toml:"endpoint"`
	Region   string `toml:"region"`
	Bucket   string `toml:"bucket"`
	Prefix   string `toml:"prefix"`
	Dir      string `toml:"dir"`
}

// Dest is the target as a destination: a directory or s3://BUCKET/PREFIX.
func (t Target) Dest() string {
	if t.Dir != "" {
		return t.Dir
	}
	return "s3://" + t.Bucket + "/" + t.Prefix
}

// LoadTargets reads a TOML file of [[target]] tables. Unknown settings,
// a missing or repeated name, and a target that is neither a bucket nor a
// directory are errors naming the file.
func LoadTargets(path string) ([]Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Target []Target `toml:"target"`
	}
	if err := tomlfile.Decode(path, data, &cfg); err != nil {
		return nil, err
	}
	if len(cfg.Target) == 0 {
		return nil, fmt.Errorf("%s: no [[target]] listed", path)
	}
	seen := map[string]bool{}
	for i, t := range cfg.Target {
		switch {
		case t.Name == "":
			return nil, fmt.Errorf("%s: target %d: name is required", path, i+1)
		case seen[t.Name]:
			return nil, fmt.Errorf("%s: target %q is listed twice", path, t.Name)
		case (t.Bucket == "") == (t.Dir == ""):
			return nil, fmt.Errorf("%s: target %q: give either bucket (with endpoint, prefix) or dir", path, t.Name)
		}
		seen[t.Name] = true
	}
	return cfg.Target, nil
}
