package s3

import (
	"fmt"
	"os"
	"path/filepath"
)

// RemoveBlobs removes every object's bytes: a reset (POST /_wharf/reset) has
// deleted S3's keys, while no request is served, and the files they named
// would otherwise stay on disk for ever.
func (s *Service) RemoveBlobs() error {
	dir := filepath.Join(s.blobs.dir, "blobs")
	names, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("s3: reset: %w", err)
	}
	for _, n := range names {
		if err := os.RemoveAll(filepath.Join(dir, n.Name())); err != nil {
			return fmt.Errorf("s3: reset: %w", err)
		}
	}
	return nil
}
