package catalog

// Reads is how many manifests l has read, signature and all.
func (l *Loader) Reads() int64 { return l.reads.Load() }
