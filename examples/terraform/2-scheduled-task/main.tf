# Architecture 2, scheduled tasks: an EventBridge Scheduler schedule (and, the
# older way, an EventBridge rule with a cron expression) runs a Fargate task
# that batch-processes every object under a prefix of the reports bucket and
# writes a summary to DynamoDB.

variable "name" {
  type    = string
  default = "tf-nightly"
}

variable "task_image" {
  description = "The batch image (on wharf's process runtime: an executable path)."
  type        = string
  default     = "000000000000.dkr.ecr.us-east-1.amazonaws.com/report-batch:2.0.1"
}

variable "schedule_expression" {
  type    = string
  default = "rate(1 hour)"
}

variable "report_prefix" {
  type    = string
  default = "reports/daily/"
}

variable "subnet_ids" {
  type    = list(string)
  default = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
}

variable "security_group_ids" {
  type    = list(string)
  default = ["sg-0a1b2c3d4e5f60001"]
}

locals {
  account = data.aws_caller_identity.current.account_id
}

# --- data ---------------------------------------------------------------------

resource "aws_s3_bucket" "reports" {
  bucket        = "${var.name}-reports-${local.account}"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "reports" {
  bucket                  = aws_s3_bucket.reports.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "reports" {
  bucket = aws_s3_bucket.reports.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "reports" {
  bucket = aws_s3_bucket.reports.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "reports" {
  bucket = aws_s3_bucket.reports.id
  rule {
    id     = "archive-then-expire"
    status = "Enabled"
    filter {
      prefix = "reports/"
    }
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = 90
      storage_class = "GLACIER"
    }
    expiration {
      days = 365
    }
  }
}

resource "aws_dynamodb_table" "summaries" {
  name           = "${var.name}-summaries"
  billing_mode   = "PROVISIONED"
  read_capacity  = 5
  write_capacity = 5
  hash_key       = "object"

  attribute {
    name = "object"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = false
}

resource "aws_cloudwatch_log_group" "batch" {
  name              = "/ecs/${var.name}"
  retention_in_days = 30
}

# --- ECS ----------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = var.name
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 100
  }
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "execution" {
  name = "logs"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.batch.arn}:*"
    }]
  })
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "task" {
  name = "batch"
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ListReports"
        Effect    = "Allow"
        Action    = "s3:ListBucket"
        Resource  = aws_s3_bucket.reports.arn
        Condition = { StringLike = { "s3:prefix" = ["${var.report_prefix}*"] } }
      },
      {
        Sid      = "ReadReports"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = "${aws_s3_bucket.reports.arn}/${var.report_prefix}*"
      },
      {
        Sid      = "WriteSummaries"
        Effect   = "Allow"
        Action   = "dynamodb:PutItem"
        Resource = aws_dynamodb_table.summaries.arn
      },
    ]
  })
}

resource "aws_ecs_task_definition" "batch" {
  family                   = "${var.name}-batch"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "512"
  memory                   = "1024"
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([{
    name      = "batch"
    image     = var.task_image
    essential = true
    command   = ["batch"]
    environment = [
      { name = "BUCKET", value = aws_s3_bucket.reports.id },
      { name = "PREFIX", value = var.report_prefix },
      { name = "TABLE", value = aws_dynamodb_table.summaries.name },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.batch.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "batch"
      }
    }
  }])
}

# --- EventBridge Scheduler ----------------------------------------------------

resource "aws_scheduler_schedule_group" "reports" {
  name = "${var.name}-reports"
}

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com", "events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "scheduler" {
  name = "run-batch"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Action    = "ecs:RunTask"
        Resource  = "${aws_ecs_task_definition.batch.arn_without_revision}:*"
        Condition = { ArnEquals = { "ecs:cluster" = aws_ecs_cluster.this.arn } }
      },
      {
        Effect   = "Allow"
        Action   = "iam:PassRole"
        Resource = [aws_iam_role.execution.arn, aws_iam_role.task.arn]
      },
    ]
  })
}

resource "aws_sqs_queue" "schedule_dlq" {
  name                    = "${var.name}-schedule-dlq"
  sqs_managed_sse_enabled = true
}

resource "aws_scheduler_schedule" "batch" {
  name                         = "${var.name}-batch"
  group_name                   = aws_scheduler_schedule_group.reports.name
  description                  = "Summarise the day's reports."
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = "UTC"
  state                        = "ENABLED"

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_ecs_cluster.this.arn
    role_arn = aws_iam_role.scheduler.arn

    ecs_parameters {
      task_definition_arn = aws_ecs_task_definition.batch.arn
      task_count          = 1
      launch_type         = "FARGATE"
      network_configuration {
        subnets          = var.subnet_ids
        security_groups  = var.security_group_ids
        assign_public_ip = false
      }
    }

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 2
    }

    dead_letter_config {
      arn = aws_sqs_queue.schedule_dlq.arn
    }
  }
}

# --- the same batch from an EventBridge rule (a weekly full run) ---------------

resource "aws_cloudwatch_event_rule" "weekly" {
  name                = "${var.name}-weekly"
  description         = "Weekly full batch, Sundays 03:00 UTC."
  schedule_expression = "cron(0 3 ? * SUN *)"
}

resource "aws_cloudwatch_event_target" "weekly" {
  rule     = aws_cloudwatch_event_rule.weekly.name
  arn      = aws_ecs_cluster.this.arn
  role_arn = aws_iam_role.scheduler.arn

  ecs_target {
    task_definition_arn = aws_ecs_task_definition.batch.arn
    launch_type         = "FARGATE"
    network_configuration {
      subnets         = var.subnet_ids
      security_groups = var.security_group_ids
    }
  }
}

output "bucket" {
  value = aws_s3_bucket.reports.id
}

output "table" {
  value = aws_dynamodb_table.summaries.name
}

output "cluster" {
  value = aws_ecs_cluster.this.name
}

output "prefix" {
  value = var.report_prefix
}
