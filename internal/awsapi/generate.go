package awsapi

// The per-service packages beside this file (sts, sqs, s3, ...) and models.txt are
// generated from botocore's models by ./gen; models.txt records which versions.
//go:generate go run ./gen
