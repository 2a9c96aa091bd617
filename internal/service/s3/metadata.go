package s3

import (
	"strconv"

	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

// maxMetadataSize is S3's limit on an object's user-defined metadata: "the
// user-defined metadata is limited to 2 KB in size" ("Working with object
// metadata" in the S3 user guide).
const maxMetadataSize = 2048

// checkMetadataSize refuses user-defined metadata larger than S3 takes. Its
// size is "the sum of the number of bytes in the UTF-8 encoding of each key
// and value" (same page): the names without their x-amz-meta- prefix, and
// the values as S3 keeps them, which for a header value that is not US-ASCII
// is each byte read as one character (restxml's metadataValue), so such a
// byte counts as the two bytes of its character's UTF-8. A browser POST
// upload's form values are UTF-8 already and count as they are.
//
// S3 answers 400 MetadataTooLarge with the size it measured and its limit,
// in the words its responses carry (without the trailing period the error
// code list in "Error responses" has).
func checkMetadataSize(m map[string]string) error {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	if n <= maxMetadataSize {
		return nil
	}
	return s3api.ErrMetadataTooLarge("Your metadata headers exceed the maximum allowed metadata size").
		WithFields(map[string]any{"Size": strconv.Itoa(n), "MaxSizeAllowed": strconv.Itoa(maxMetadataSize)})
}
