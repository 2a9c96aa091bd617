package restxml

// S3's response root names (ListAllMyBucketsResult, ...) are generated onto the
// output shapes from internal/awsapi/gen/overlays/s3.json.

// textRoots are operations whose response is one element holding its only
// member's text: <LocationConstraint>eu-west-1</LocationConstraint>
// (GetBucketLocation docs; SDKs special-case it).
var textRoots = map[string]string{"GetBucketLocation": "LocationConstraint"}
