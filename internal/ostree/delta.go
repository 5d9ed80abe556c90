package ostree

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/projectatomic/atomic-site/internal/gvariant"
)

// The static delta superblock (ostree-repo-static-delta-private.h,
// OSTREE_STATIC_DELTA_SUPERBLOCK_FORMAT): metadata, timestamp, from and
// to checksums, the target commit, dependencies, the parts' meta entries
// (version, checksum, size, uncompressed size, objects) and the fallback
// objects.
const superblockType = "(a{sv}tayay" + commitType + "aya(uayttay)a(yaytt))"

// SummaryDeltas reads the static deltas a summary lists
// (ostree.static-deltas): delta name ("FROM-TO", or "TO" for one from
// scratch) → the sha256 of its superblock. A client offered one fetches
// it from the same repository.
func SummaryDeltas(data []byte) (map[string]string, error) {
	v, err := gvariant.Decode(summaryType, data)
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	return deltaList(v.([]any)[1].([]any))
}

// IndexDeltas reads a delta index (delta-indexes/XX/….index): the static
// deltas to one commit, as SummaryDeltas.
func IndexDeltas(data []byte) (map[string]string, error) {
	v, err := gvariant.Decode(metaType, data)
	if err != nil {
		return nil, fmt.Errorf("delta index: %w", err)
	}
	return deltaList(v.([]any))
}

// deltaList reads ostree.static-deltas from a dict of named values.
func deltaList(meta []any) (map[string]string, error) {
	out := map[string]string{}
	list, err := metaValue(meta, "ostree.static-deltas", "a{sv}")
	if err != nil {
		return nil, err
	}
	for _, d := range list {
		kv := d.([]any)
		name, sb := kv[0].(string), kv[1].(gvariant.Variant)
		if sb.Type != "ay" {
			return nil, fmt.Errorf("ostree.static-deltas %s: of type %s", name, sb.Type)
		}
		sum, err := checksum(sb.Data)
		if err != nil {
			return nil, fmt.Errorf("ostree.static-deltas %s: %w", name, err)
		}
		out[name] = sum
	}
	return out, nil
}

// b64 is ostree's modified base64 of a checksum: no padding, and _ for /
// (ostree_checksum_b64_from_bytes).
func b64(sum string) (string, error) {
	raw, err := hex.DecodeString(sum)
	if err != nil || len(raw) != 32 {
		return "", fmt.Errorf("%q is not a checksum", sum)
	}
	return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(raw), "/", "_"), nil
}

// DeltaDir is where the static delta of a name lives:
// deltas/FF/FFFF…-TTTT…/ from FROM to TO, deltas/TT/TTTT…/ from scratch.
func DeltaDir(name string) (string, error) {
	from, to, ok := strings.Cut(name, "-")
	if !ok {
		from, to = "", name
	}
	t, err := b64(to)
	if err != nil {
		return "", fmt.Errorf("delta %s: %w", name, err)
	}
	if from == "" {
		return "deltas/" + t[:2] + "/" + t[2:] + "/", nil
	}
	f, err := b64(from)
	if err != nil {
		return "", fmt.Errorf("delta %s: %w", name, err)
	}
	return "deltas/" + f[:2] + "/" + f[2:] + "-" + t + "/", nil
}

// DeltaIndexPath is where the index of the deltas to a commit lives.
func DeltaIndexPath(commit string) (string, error) {
	t, err := b64(commit)
	if err != nil {
		return "", err
	}
	return "delta-indexes/" + t[:2] + "/" + t[2:] + ".index", nil
}

// DeltaParts reads a superblock's parts: the sha256 of each part file,
// in order (part i is the file named i beside the superblock).
func DeltaParts(superblock []byte) ([]string, error) {
	v, err := gvariant.Decode(superblockType, superblock)
	if err != nil {
		return nil, fmt.Errorf("superblock: %w", err)
	}
	var parts []string
	for i, e := range v.([]any)[6].([]any) {
		sum, err := checksum(e.([]any)[1].([]byte))
		if err != nil {
			return nil, fmt.Errorf("superblock part %d: %w", i, err)
		}
		parts = append(parts, sum)
	}
	return parts, nil
}
