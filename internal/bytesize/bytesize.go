// Package bytesize writes byte counts for people, in binary units as
// download tools and file managers show them.
package bytesize

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Format writes n as "579.5 MiB"; below 1 KiB, as "512 B".
func Format(n int64) string {
	v, unit := Split(n)
	if unit == "B" {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// Split is n as Format writes it, for a writer of numbers in another
// language: 579.5 (to one decimal) and "MiB", or 512 and "B".
func Split(n int64) (float64, string) {
	const unit = 1024
	if n < unit {
		return float64(n), "B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return float64(n) / float64(div), string("KMGTP"[exp]) + "iB"
}

// Parse reads a size as people write it: "1048576", "512KiB", "1MiB",
// "2 GiB" (binary units; KB, MB and GB are taken as the same).
func Parse(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for i, u := range []string{"K", "M", "G", "T"} {
		for _, suffix := range []string{u + "iB", u + "B", u} {
			if n, ok := strings.CutSuffix(t, suffix); ok {
				t, mult = strings.TrimSpace(n), int64(1)<<(10*(i+1))
				goto number
			}
		}
	}
	t = strings.TrimSpace(strings.TrimSuffix(t, "B"))
number:
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: want a size like 1MiB, 512KiB or 1048576", s)
	}
	return n * mult, nil
}
