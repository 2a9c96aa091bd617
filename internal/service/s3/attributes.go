package s3

import (
	"context"
	"strings"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

// GetObjectAttributes returns the attributes a request names (ETag,
// Checksum, ObjectParts, StorageClass, ObjectSize) without the object's
// bytes; ObjectParts pages through a multipart object's parts.
func (s *Service) GetObjectAttributes(ctx context.Context, in *s3api.GetObjectAttributesInput) (*s3api.GetObjectAttributesOutput, error) {
	want := map[string]bool{}
	for _, list := range in.ObjectAttributes {
		// A header of several values may arrive as one, comma-separated.
		for _, a := range strings.Split(list, ",") {
			a = strings.TrimSpace(a)
			switch a {
			case "ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize":
				want[a] = true
			default:
				return nil, invalidArgument("Invalid attribute name specified.", "x-amz-object-attributes", a)
			}
		}
	}
	if len(want) == 0 {
		return nil, invalidRequest("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty")
	}
	maxParts := int32(1000)
	if in.MaxParts != nil {
		if *in.MaxParts < 0 {
			return nil, invalidArgument("Argument max-parts must be an integer between 0 and 2147483647", "max-parts", "")
		}
		if *in.MaxParts < maxParts {
			maxParts = *in.MaxParts
		}
	}
	marker := awsapi.ToInt32(in.PartNumberMarker)
	b, o, _, err := s.openObject(ctx, awsapi.ToString(in.Bucket), awsapi.ToString(in.Key), awsapi.ToString(in.VersionId), false)
	if err != nil {
		return nil, err
	}
	if err := o.Enc.checkKey(in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5, ""); err != nil {
		return nil, err
	}
	lm := o.LastModified
	out := &s3api.GetObjectAttributesOutput{LastModified: &lm}
	if b.versioned() {
		out.VersionId = awsapi.String(o.VersionID)
	}
	if want["ETag"] {
		// Unlike GET and HEAD, GetObjectAttributes sends the ETag unquoted.
		out.ETag = awsapi.String(strings.Trim(o.ETag, `"`))
	}
	if want["StorageClass"] {
		out.StorageClass = awsapi.String(o.storageClass())
	}
	if want["ObjectSize"] {
		out.ObjectSize = awsapi.Int64(o.Size)
	}
	if want["Checksum"] && len(o.Checksums) > 0 {
		c := &s3api.Checksum{ChecksumType: awsapi.String(o.ChecksumType)}
		checksumFields{&c.ChecksumCRC32, &c.ChecksumCRC32C, &c.ChecksumCRC64NVME, &c.ChecksumSHA1, &c.ChecksumSHA256}.set(o.Checksums)
		out.Checksum = c
	}
	if want["ObjectParts"] && len(o.PartSizes) > 0 {
		n := int32(len(o.PartSizes))
		p := &s3api.GetObjectAttributesParts{TotalPartsCount: awsapi.Int32(n), MaxParts: awsapi.Int32(maxParts),
			PartNumberMarker: awsapi.Int32(marker), IsTruncated: awsapi.Bool(false)}
		alg := ""
		for a := range o.Checksums {
			alg = a
		}
		for i := marker; i < n; i++ {
			if int32(len(p.Parts)) == maxParts {
				p.IsTruncated = awsapi.Bool(true)
				break
			}
			part := s3api.ObjectPart{PartNumber: awsapi.Int32(i + 1), Size: awsapi.Int64(o.PartSizes[i])}
			if int(i) < len(o.PartChecksums) && o.PartChecksums[i] != "" {
				checksumFields{&part.ChecksumCRC32, &part.ChecksumCRC32C, &part.ChecksumCRC64NVME, &part.ChecksumSHA1, &part.ChecksumSHA256}.
					set(map[string]string{alg: o.PartChecksums[i]})
			}
			p.Parts = append(p.Parts, part)
			p.NextPartNumberMarker = awsapi.Int32(i + 1)
		}
		out.ObjectParts = p
	}
	return out, nil
}
