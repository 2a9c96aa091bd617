package restxml

// s3Roots names the root element of S3 responses whose output shape is the body
// itself. botocore's model leaves these out (clients ignore the root's name), but
// S3 sends them (the "Response Syntax" of each operation in the S3 API Reference),
// and tools that read the XML directly rely on them.
var s3Roots = map[string]string{
	"ListObjects":                                "ListBucketResult",
	"ListObjectsV2":                              "ListBucketResult",
	"ListObjectVersions":                         "ListVersionsResult",
	"ListBuckets":                                "ListAllMyBucketsResult",
	"ListDirectoryBuckets":                       "ListAllMyDirectoryBucketsResult",
	"ListMultipartUploads":                       "ListMultipartUploadsResult",
	"ListParts":                                  "ListPartsResult",
	"CreateMultipartUpload":                      "InitiateMultipartUploadResult",
	"CompleteMultipartUpload":                    "CompleteMultipartUploadResult",
	"DeleteObjects":                              "DeleteResult",
	"GetObjectTagging":                           "Tagging",
	"GetBucketTagging":                           "Tagging",
	"GetBucketAcl":                               "AccessControlPolicy",
	"GetObjectAcl":                               "AccessControlPolicy",
	"GetBucketVersioning":                        "VersioningConfiguration",
	"GetBucketCors":                              "CORSConfiguration",
	"GetBucketLifecycleConfiguration":            "LifecycleConfiguration",
	"GetBucketNotificationConfiguration":         "NotificationConfiguration",
	"GetBucketWebsite":                           "WebsiteConfiguration",
	"GetBucketLogging":                           "BucketLoggingStatus",
	"GetBucketRequestPayment":                    "RequestPaymentConfiguration",
	"GetBucketAccelerateConfiguration":           "AccelerateConfiguration",
	"GetObjectAttributes":                        "GetObjectAttributesResponse",
	"ListBucketAnalyticsConfigurations":          "ListBucketAnalyticsConfigurationResult",
	"ListBucketInventoryConfigurations":          "ListInventoryConfigurationsResult",
	"ListBucketMetricsConfigurations":            "ListMetricsConfigurationsResult",
	"ListBucketIntelligentTieringConfigurations": "ListBucketIntelligentTieringConfigurationsOutput",
	"GetBucketLocation":                          "LocationConstraint",
}

// textRoots are operations whose response is one element holding its only
// member's text: <LocationConstraint>eu-west-1</LocationConstraint>
// (GetBucketLocation docs; SDKs special-case it).
var textRoots = map[string]string{"GetBucketLocation": "LocationConstraint"}
