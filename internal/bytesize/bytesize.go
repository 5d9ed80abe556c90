// Package bytesize writes byte counts for people, in binary units as
// download tools and file managers show them.
package bytesize

import "fmt"

// Format writes n as "579.5 MiB"; below 1 KiB, as "512 B".
func Format(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
