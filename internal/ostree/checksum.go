package ostree

import (
	"bufio"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/bits"

	"github.com/projectatomic/atomic-site/internal/gvariant"
)

// The header of a .filez object (ostree-core-private.h,
// _OSTREE_ZLIB_FILE_HEADER_GVARIANT_FORMAT): the uncompressed size, then
// the file header a checksum covers (_OSTREE_FILE_HEADER_GVARIANT_FORMAT):
// uid, gid, mode, rdev, symlink target and xattrs, numbers big-endian.
const (
	zlibHeaderType = "(tuuuusa(ayay))"
	fileHeaderType = "(uuuusa(ayay))"
)

// maxFileHeader bounds the header of a .filez object (its xattrs).
const maxFileHeader = 1 << 20

// ErrChecksum is wrapped by the error of an object whose content is not
// what its name says.
var ErrChecksum = errors.New("checksum mismatch")

// Checksum reads an object of type typ (commit, dirtree, dirmeta or filez)
// and returns its checksum as ostree computes it: the sha256 of a metadata
// object's bytes; for a .filez, the sha256 of the file header (its size
// in four big-endian bytes and four of padding, then the header) and the
// uncompressed content (ostree_checksum_file_from_input). A .filez that is
// malformed, or whose content is not of the size its header says, is an
// error.
func Checksum(typ string, r io.Reader) (string, error) {
	h := sha256.New()
	switch typ {
	case "commit", "dirtree", "dirmeta":
		if _, err := io.Copy(h, r); err != nil {
			return "", err
		}
	case "filez":
		if err := fileChecksum(h, r); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("objects of type %s have no checksum of their content", typ)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify checks that the object at key (objects/XX/Y….TYPE) has the
// checksum its name says, naming it if not. Objects without a checksum of
// their content (.commitmeta) pass.
func Verify(key string, r io.Reader) error {
	if err := Check(key, r); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// Check is Verify for a caller that names the object itself (by its URL).
func Check(key string, r io.Reader) error {
	want, typ, ok := ObjectChecksum(key)
	if !ok {
		return errors.New("not an object")
	}
	if typ == "commitmeta" {
		return nil
	}
	got, err := Checksum(typ, r)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%w: its content has checksum %s", ErrChecksum, got)
	}
	return nil
}

func fileChecksum(h hash.Hash, r io.Reader) error {
	br := bufio.NewReader(r)
	var prefix [8]byte
	if _, err := io.ReadFull(br, prefix[:]); err != nil {
		return fmt.Errorf("file object header: %w", err)
	}
	n := binary.BigEndian.Uint32(prefix[:4])
	if n > maxFileHeader {
		return fmt.Errorf("file object header of %d bytes", n)
	}
	hdr := make([]byte, n)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return fmt.Errorf("file object header: %w", err)
	}
	v, err := gvariant.Decode(zlibHeaderType, hdr)
	if err != nil {
		return fmt.Errorf("file object header: %w", err)
	}
	fields := v.([]any)
	size := bits.ReverseBytes64(fields[0].(uint64))
	fileHdr, err := gvariant.Encode(fileHeaderType, fields[1:])
	if err != nil {
		return err
	}
	var sized [8]byte
	binary.BigEndian.PutUint32(sized[:4], uint32(len(fileHdr)))
	h.Write(sized[:])
	h.Write(fileHdr)
	// The content is a raw deflate stream; a symbolic link has none.
	if size == 0 {
		if _, err := br.Peek(1); err == io.EOF {
			return nil
		}
	}
	z := flate.NewReader(br)
	defer z.Close()
	got, err := io.Copy(h, io.LimitReader(z, int64(size)+1))
	if err != nil {
		return fmt.Errorf("file object content: %w", err)
	}
	if uint64(got) != size {
		return fmt.Errorf("file object content of %d bytes, its header says %d", got, size)
	}
	return nil
}
