package s3

import (
	"context"

	"github.com/wharf-dev/wharf/internal/awsapi"
	s3api "github.com/wharf-dev/wharf/internal/awsapi/s3"
)

// Bucket settings that S3 stores and reports but that wharf does not act on
// beyond reporting them: public access block, default encryption, object
// ownership, and the reads of features a bucket made here never has
// (website, replication, logging, acceleration, requester pays).
// Each answers as S3 does for a bucket created today ("Default settings for
// new S3 buckets" in the S3 user guide: Block Public Access on, ACLs disabled
// through BucketOwnerEnforced, SSE-S3 default encryption).

// defaultOwnership is what CreateBucket sets when the request names none.
const defaultOwnership = ownerEnforced

// defaultMinimumObjectSize is the lifecycle transition size S3 applies when a
// configuration names none ("Transitioning objects using Amazon S3
// Lifecycle": all_storage_classes_128K since September 2024).
const defaultMinimumObjectSize = "all_storage_classes_128K"

func allBlocked() *s3api.PublicAccessBlockConfiguration {
	t := true
	return &s3api.PublicAccessBlockConfiguration{BlockPublicAcls: &t, IgnorePublicAcls: &t, BlockPublicPolicy: &t, RestrictPublicBuckets: &t}
}

func validOwnership(o string) bool {
	switch o {
	case "BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter":
		return true
	}
	return false
}

func invalidOwnership(o string) error {
	return invalidArgument("Invalid x-amz-object-ownership header: "+o, "x-amz-object-ownership", o)
}

// PutPublicAccessBlock replaces the bucket's public access block. Settings
// left out of the request are false, as on S3.
func (s *Service) PutPublicAccessBlock(ctx context.Context, in *s3api.PutPublicAccessBlockInput) (*s3api.PutPublicAccessBlockOutput, error) {
	c := in.PublicAccessBlockConfiguration
	if c == nil {
		return nil, malformedXML()
	}
	f := func(p *bool) *bool { v := p != nil && *p; return &v }
	cfg := &s3api.PublicAccessBlockConfiguration{BlockPublicAcls: f(c.BlockPublicAcls), IgnorePublicAcls: f(c.IgnorePublicAcls),
		BlockPublicPolicy: f(c.BlockPublicPolicy), RestrictPublicBuckets: f(c.RestrictPublicBuckets)}
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.PublicAccessBlock = cfg
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutPublicAccessBlockOutput{}, nil
}

// GetPublicAccessBlock returns the bucket's public access block, or
// NoSuchPublicAccessBlockConfiguration once it was deleted.
func (s *Service) GetPublicAccessBlock(ctx context.Context, in *s3api.GetPublicAccessBlockInput) (*s3api.GetPublicAccessBlockOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.PublicAccessBlock == nil {
		return nil, s3api.ErrNoSuchPublicAccessBlockConfiguration("The public access block configuration was not found").WithFields(map[string]any{"BucketName": b.Name})
	}
	return &s3api.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: b.PublicAccessBlock}, nil
}

// DeletePublicAccessBlock removes the bucket's public access block.
func (s *Service) DeletePublicAccessBlock(ctx context.Context, in *s3api.DeletePublicAccessBlockInput) (*s3api.DeletePublicAccessBlockOutput, error) {
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.PublicAccessBlock = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.DeletePublicAccessBlockOutput{}, nil
}

// PutBucketEncryption sets the bucket's default encryption. wharf stores
// objects unencrypted on the local disk whatever the setting; what it keeps
// is what S3 reports.
func (s *Service) PutBucketEncryption(ctx context.Context, in *s3api.PutBucketEncryptionInput) (*s3api.PutBucketEncryptionOutput, error) {
	c := in.ServerSideEncryptionConfiguration
	if c == nil || len(c.Rules) != 1 {
		return nil, malformedXML()
	}
	r := c.Rules[0]
	if d := r.ApplyServerSideEncryptionByDefault; d != nil {
		alg := awsapi.ToString(d.SSEAlgorithm)
		switch alg {
		case "AES256":
			if d.KMSMasterKeyID != nil {
				return nil, invalidArgument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
					"ApplyServerSideEncryptionByDefault", "")
			}
		case "aws:kms", "aws:kms:dsse":
		default:
			return nil, malformedXML()
		}
	}
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.Encryption = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutBucketEncryptionOutput{}, nil
}

// GetBucketEncryption returns the bucket's default encryption: SSE-S3 unless
// another was put, as every S3 bucket has had since January 2023.
func (s *Service) GetBucketEncryption(ctx context.Context, in *s3api.GetBucketEncryptionInput) (*s3api.GetBucketEncryptionOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	c := b.Encryption
	if c == nil {
		c = &s3api.ServerSideEncryptionConfiguration{Rules: []s3api.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3api.ServerSideEncryptionByDefault{SSEAlgorithm: awsapi.String("AES256")},
			BucketKeyEnabled:                   awsapi.Bool(false),
		}}}
	}
	return &s3api.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: c}, nil
}

// DeleteBucketEncryption resets the bucket's default encryption to SSE-S3
// (DeleteBucketEncryption docs).
func (s *Service) DeleteBucketEncryption(ctx context.Context, in *s3api.DeleteBucketEncryptionInput) (*s3api.DeleteBucketEncryptionOutput, error) {
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.Encryption = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketEncryptionOutput{}, nil
}

// PutBucketOwnershipControls sets the bucket's object ownership.
func (s *Service) PutBucketOwnershipControls(ctx context.Context, in *s3api.PutBucketOwnershipControlsInput) (*s3api.PutBucketOwnershipControlsOutput, error) {
	c := in.OwnershipControls
	if c == nil || len(c.Rules) != 1 {
		return nil, malformedXML()
	}
	o := awsapi.ToString(c.Rules[0].ObjectOwnership)
	if !validOwnership(o) {
		return nil, malformedXML()
	}
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		// ACLs are disabled only once the bucket's ACL grants nothing
		// beyond its owner's full control ("Prerequisites for disabling
		// ACLs"); objects' ACLs stop counting.
		if o == ownerEnforced && !onlyFullControl(bucketGrants(b), b.Account) {
			return s3api.ErrInvalidBucketAclWithObjectOwnership("Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
		}
		b.Ownership = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutBucketOwnershipControlsOutput{}, nil
}

// GetBucketOwnershipControls returns the bucket's object ownership, or
// OwnershipControlsNotFoundError once it was deleted.
func (s *Service) GetBucketOwnershipControls(ctx context.Context, in *s3api.GetBucketOwnershipControlsInput) (*s3api.GetBucketOwnershipControlsOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Ownership == "" {
		return nil, s3api.ErrOwnershipControlsNotFoundError("The bucket ownership controls were not found").WithFields(map[string]any{"BucketName": b.Name})
	}
	return &s3api.GetBucketOwnershipControlsOutput{OwnershipControls: &s3api.OwnershipControls{
		Rules: []s3api.OwnershipControlsRule{{ObjectOwnership: awsapi.String(b.Ownership)}}}}, nil
}

// DeleteBucketOwnershipControls removes the bucket's object ownership setting.
func (s *Service) DeleteBucketOwnershipControls(ctx context.Context, in *s3api.DeleteBucketOwnershipControlsInput) (*s3api.DeleteBucketOwnershipControlsOutput, error) {
	err := s.updateBucket(ctx, awsapi.ToString(in.Bucket), func(b *bucket) error {
		b.Ownership = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketOwnershipControlsOutput{}, nil
}

// GetBucketAccelerateConfiguration answers as for a bucket that never had
// Transfer Acceleration: an empty configuration.
func (s *Service) GetBucketAccelerateConfiguration(ctx context.Context, in *s3api.GetBucketAccelerateConfigurationInput) (*s3api.GetBucketAccelerateConfigurationOutput, error) {
	if _, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket)); err != nil {
		return nil, err
	}
	return &s3api.GetBucketAccelerateConfigurationOutput{}, nil
}

// GetBucketLogging answers as for a bucket without server access logging:
// an empty BucketLoggingStatus.
func (s *Service) GetBucketLogging(ctx context.Context, in *s3api.GetBucketLoggingInput) (*s3api.GetBucketLoggingOutput, error) {
	if _, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket)); err != nil {
		return nil, err
	}
	return &s3api.GetBucketLoggingOutput{}, nil
}

// GetBucketReplication answers as for a bucket without replication.
func (s *Service) GetBucketReplication(ctx context.Context, in *s3api.GetBucketReplicationInput) (*s3api.GetBucketReplicationOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	return nil, s3api.ErrReplicationConfigurationNotFoundError("The replication configuration was not found").WithFields(map[string]any{"BucketName": b.Name})
}

// GetBucketRequestPayment answers as for a bucket whose owner pays.
func (s *Service) GetBucketRequestPayment(ctx context.Context, in *s3api.GetBucketRequestPaymentInput) (*s3api.GetBucketRequestPaymentOutput, error) {
	if _, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket)); err != nil {
		return nil, err
	}
	return &s3api.GetBucketRequestPaymentOutput{Payer: awsapi.String("BucketOwner")}, nil
}

// GetBucketWebsite answers as for a bucket that is not a website.
func (s *Service) GetBucketWebsite(ctx context.Context, in *s3api.GetBucketWebsiteInput) (*s3api.GetBucketWebsiteOutput, error) {
	b, err := s.viewBucket(ctx, awsapi.ToString(in.Bucket))
	if err != nil {
		return nil, err
	}
	return nil, s3api.ErrNoSuchWebsiteConfiguration("The specified bucket does not have a website configuration").WithFields(map[string]any{"BucketName": b.Name})
}
