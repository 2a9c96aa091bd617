# Architecture 1, event-driven tasks: an object lands under incoming/ in the
# bucket; S3 sends "Object Created" to EventBridge; a rule runs a Fargate task
# with the bucket and key as environment overrides; the task reads the object
# with its task role's credentials and writes its counts to DynamoDB.

variable "name" {
  type    = string
  default = "tf-ingest"
}

variable "task_image" {
  description = "The worker image (on wharf's process runtime: an executable path)."
  type        = string
  default     = "000000000000.dkr.ecr.us-east-1.amazonaws.com/ingest-worker:1.4.2"
}

variable "subnet_ids" {
  description = "Private subnets the Fargate tasks run in (wharf runs tasks on the host network)."
  type        = list(string)
  default     = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
}

variable "security_group_ids" {
  type    = list(string)
  default = ["sg-0a1b2c3d4e5f60001"]
}

locals {
  account = data.aws_caller_identity.current.account_id
}

# --- the bucket objects arrive in -------------------------------------------

resource "aws_s3_bucket" "incoming" {
  bucket        = "${var.name}-incoming-${local.account}"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "incoming" {
  bucket                  = aws_s3_bucket.incoming.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "incoming" {
  bucket = aws_s3_bucket.incoming.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "incoming" {
  bucket = aws_s3_bucket.incoming.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "incoming" {
  bucket = aws_s3_bucket.incoming.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "incoming" {
  bucket = aws_s3_bucket.incoming.id
  rule {
    id     = "expire-processed"
    status = "Enabled"
    filter {
      prefix = "incoming/"
    }
    expiration {
      days = 30
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
  depends_on = [aws_s3_bucket_versioning.incoming]
}

resource "aws_s3_bucket_policy" "incoming" {
  bucket = aws_s3_bucket.incoming.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OnlyTheWorkerReads"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.incoming.arn}/*"
      Condition = { ArnNotEquals = { "aws:PrincipalArn" = [aws_iam_role.task.arn, "arn:${data.aws_partition.current.partition}:iam::${local.account}:root"] } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.incoming]
}

resource "aws_s3_bucket_notification" "incoming" {
  bucket      = aws_s3_bucket.incoming.id
  eventbridge = true
}

# --- where results go --------------------------------------------------------

resource "aws_dynamodb_table" "results" {
  name         = "${var.name}-results"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "object"

  attribute {
    name = "object"
    type = "S"
  }
  attribute {
    name = "processed"
    type = "S"
  }

  global_secondary_index {
    name            = "by-processed"
    hash_key        = "processed"
    projection_type = "KEYS_ONLY"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }
}

# --- logs ---------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/ecs/${var.name}"
  retention_in_days = 14
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  name           = "${var.name}-errors"
  log_group_name = aws_cloudwatch_log_group.worker.name
  pattern        = "?ERROR ?Error ?panic"
  metric_transformation {
    name          = "WorkerErrors"
    namespace     = "Ingest"
    value         = "1"
    default_value = "0"
  }
}

# --- ECS ----------------------------------------------------------------------

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
    base              = 1
  }
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.worker.arn}:*"]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "logs"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "ReadIncoming"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.incoming.arn}/incoming/*"]
  }
  statement {
    sid       = "WriteResults"
    actions   = ["dynamodb:PutItem"]
    resources = [aws_dynamodb_table.results.arn]
  }
}

resource "aws_iam_policy" "task" {
  name        = "${var.name}-task"
  description = "What the ingest worker may do: read new objects, write results."
  policy      = data.aws_iam_policy_document.task.json
}

resource "aws_iam_role_policy_attachment" "task" {
  role       = aws_iam_role.task.name
  policy_arn = aws_iam_policy.task.arn
}

resource "aws_ecs_task_definition" "worker" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name      = "app"
    image     = var.task_image
    essential = true
    command   = ["object"]
    environment = [
      { name = "TABLE", value = aws_dynamodb_table.results.name },
    ]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.worker.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "ingest"
      }
    }
  }])
}

# --- EventBridge: Object Created -> RunTask -----------------------------------

resource "aws_sqs_queue" "events_dlq" {
  name                      = "${var.name}-events-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_cloudwatch_event_rule" "object_created" {
  name        = "${var.name}-object-created"
  description = "New objects under incoming/ run the ingest task."
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [aws_s3_bucket.incoming.id] }
      object = { key = [{ prefix = "incoming/" }] }
    }
  })
}

data "aws_iam_policy_document" "events_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "events" {
  name               = "${var.name}-events"
  assume_role_policy = data.aws_iam_policy_document.events_assume.json
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "RunTask"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${data.aws_partition.current.partition}:ecs:${data.aws_region.current.name}:${local.account}:task-definition/${var.name}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [aws_ecs_cluster.this.arn]
    }
  }
  statement {
    sid       = "PassRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.execution.arn, aws_iam_role.task.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  name   = "run-task"
  role   = aws_iam_role.events.id
  policy = data.aws_iam_policy_document.events.json
}

resource "aws_cloudwatch_event_target" "run_task" {
  rule      = aws_cloudwatch_event_rule.object_created.name
  target_id = "ingest"
  arn       = aws_ecs_cluster.this.arn
  role_arn  = aws_iam_role.events.arn

  ecs_target {
    task_definition_arn = aws_ecs_task_definition.worker.arn
    task_count          = 1
    launch_type         = "FARGATE"
    platform_version    = "LATEST"
    network_configuration {
      subnets          = var.subnet_ids
      security_groups  = var.security_group_ids
      assign_public_ip = false
    }
  }

  input_transformer {
    input_paths = {
      bucket = "$.detail.bucket.name"
      key    = "$.detail.object.key"
    }
    input_template = <<-EOT
      {"containerOverrides": [{"name": "app", "environment": [{"name": "BUCKET", "value": <bucket>}, {"name": "KEY", "value": <key>}]}]}
    EOT
  }

  retry_policy {
    maximum_event_age_in_seconds = 3600
    maximum_retry_attempts       = 3
  }

  dead_letter_config {
    arn = aws_sqs_queue.events_dlq.arn
  }
}

resource "aws_sqs_queue_policy" "events_dlq" {
  queue_url = aws_sqs_queue.events_dlq.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeDeadLetters"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.events_dlq.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.object_created.arn } }
    }]
  })
}

output "bucket" {
  value = aws_s3_bucket.incoming.id
}

output "table" {
  value = aws_dynamodb_table.results.name
}

output "cluster" {
  value = aws_ecs_cluster.this.name
}
