# The provider as a team would configure it for AWS, pointed at wharf: every
# service's endpoint is var.endpoint. Drop the endpoints block (and the test
# keys) to deploy the same stack to AWS.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "endpoint" {
  description = "wharf's address, for every service."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

provider "aws" {
  region                      = var.region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    applicationautoscaling = var.endpoint
    cloudwatch             = var.endpoint
    dynamodb               = var.endpoint
    ecs                    = var.endpoint
    events                 = var.endpoint
    iam                    = var.endpoint
    logs                   = var.endpoint
    s3                     = var.endpoint
    scheduler              = var.endpoint
    sns                    = var.endpoint
    sqs                    = var.endpoint
    sts                    = var.endpoint
  }

  default_tags {
    tags = {
      Project = "wharf-terraform"
      Stack   = var.name
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}
