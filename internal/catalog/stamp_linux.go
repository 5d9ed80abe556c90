package catalog

import (
	"io/fs"
	"syscall"
)

// sysStamp adds the inode and the change time, which a rename or a write
// that restores the modification time still changes.
func sysStamp(fi fs.FileInfo, s *stamp) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = st.Ino
		s.ctime = st.Ctim.Nano()
	}
}
