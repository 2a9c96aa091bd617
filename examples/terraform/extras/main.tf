# Resources beyond the four architectures that teams commonly declare next to
# them: resource policies, bucket notifications to a queue and a topic, a
# custom event bus with an archive, a schedule group, capacity providers,
# managed policies and their attachments, an instance profile, a DynamoDB
# table with streams, point-in-time recovery, TTL, a GSI and encryption, a
# scheduled scaling action and a log metric filter. test/e2e/terraform.sh
# applies it, requires a second plan to show no changes, and destroys it.

variable "name" {
  type    = string
  default = "tf-extras"
}

variable "task_image" {
  description = "The service's image (on wharf's process runtime: an executable path)."
  type        = string
  default     = "000000000000.dkr.ecr.us-east-1.amazonaws.com/worker:1.0.0"
}

locals {
  account = data.aws_caller_identity.current.account_id
}

# --- a queue and a topic with resource policies, fed by bucket notifications ---

resource "aws_sqs_queue" "uploads" {
  name                    = "${var.name}-uploads"
  sqs_managed_sse_enabled = true
}

resource "aws_sqs_queue_policy" "uploads" {
  queue_url = aws_sqs_queue.uploads.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "BucketSends"
      Effect    = "Allow"
      Principal = { Service = "s3.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.uploads.arn
      Condition = {
        ArnLike      = { "aws:SourceArn" = aws_s3_bucket.data.arn }
        StringEquals = { "aws:SourceAccount" = local.account }
      }
    }]
  })
}

resource "aws_sns_topic" "deletions" {
  name = "${var.name}-deletions"
}

data "aws_iam_policy_document" "deletions" {
  statement {
    sid       = "BucketPublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.deletions.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.data.arn]
    }
  }
}

resource "aws_sns_topic_policy" "deletions" {
  arn    = aws_sns_topic.deletions.arn
  policy = data.aws_iam_policy_document.deletions.json
}

resource "aws_s3_bucket" "data" {
  bucket        = "${var.name}-data-${local.account}"
  force_destroy = true
}

resource "aws_s3_bucket_notification" "data" {
  bucket = aws_s3_bucket.data.id

  queue {
    id            = "uploads"
    queue_arn     = aws_sqs_queue.uploads.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = "uploads/"
  }

  topic {
    id        = "deletions"
    topic_arn = aws_sns_topic.deletions.arn
    events    = ["s3:ObjectRemoved:*"]
  }

  depends_on = [aws_sqs_queue_policy.uploads, aws_sns_topic_policy.deletions]
}

# --- a custom bus, its archive, and a schedule group ---------------------------

resource "aws_cloudwatch_event_bus" "orders" {
  name = "${var.name}-orders"
}

resource "aws_cloudwatch_event_archive" "orders" {
  name             = "${var.name}-orders"
  event_source_arn = aws_cloudwatch_event_bus.orders.arn
  description      = "Every order event, for replays"
  retention_days   = 7
  event_pattern = jsonencode({
    source = ["shop.orders"]
  })
}

resource "aws_scheduler_schedule_group" "jobs" {
  name = "${var.name}-jobs"
}

# --- ECS: capacity providers and a service scaled on a schedule ---------------

resource "aws_ecs_cluster" "main" {
  name = "${var.name}-cluster"
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = 1
    weight            = 1
  }
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 3
  }
}

resource "aws_iam_role" "execution" {
  name = "${var.name}-execution"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_cloudwatch_log_group" "worker" {
  name              = "/ecs/${var.name}-worker"
  retention_in_days = 14
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "${var.name}-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([{
    name      = "worker"
    image     = var.task_image
    essential = true
    command   = ["sleep", "3600"]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.worker.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "worker"
      }
    }
  }])
}

resource "aws_ecs_service" "worker" {
  name            = "${var.name}-worker"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.worker.arn
  desired_count   = 0

  capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = 1
  }

  network_configuration {
    subnets          = ["subnet-0a1b2c3d4e5f60001"]
    security_groups  = ["sg-0a1b2c3d4e5f60001"]
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_ecs_cluster_capacity_providers.main]
}

resource "aws_appautoscaling_target" "worker" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.worker.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 0
  max_capacity       = 4
}

resource "aws_appautoscaling_scheduled_action" "business_hours" {
  name               = "${var.name}-business-hours"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  resource_id        = aws_appautoscaling_target.worker.resource_id
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension
  schedule           = "cron(0 8 ? * MON-FRI *)"
  timezone           = "Europe/Paris"

  scalable_target_action {
    min_capacity = 1
    max_capacity = 4
  }
}

# --- logs: a metric filter on the worker's errors -----------------------------

resource "aws_cloudwatch_log_metric_filter" "errors" {
  name           = "${var.name}-errors"
  log_group_name = aws_cloudwatch_log_group.worker.name
  pattern        = "ERROR"

  metric_transformation {
    name          = "WorkerErrors"
    namespace     = "Wharf/Extras"
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

# --- IAM: a managed policy attached to a role and a user; an instance profile ---

resource "aws_iam_policy" "read_data" {
  name        = "${var.name}-read-data"
  path        = "/extras/"
  description = "Read the data bucket"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:ListBucket"]
      Resource = [aws_s3_bucket.data.arn, "${aws_s3_bucket.data.arn}/*"]
    }]
  })
}

resource "aws_iam_role" "reader" {
  name = "${var.name}-reader"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "reader" {
  role       = aws_iam_role.reader.name
  policy_arn = aws_iam_policy.read_data.arn
}

resource "aws_iam_instance_profile" "reader" {
  name = "${var.name}-reader"
  role = aws_iam_role.reader.name
}

resource "aws_iam_user" "auditor" {
  name = "${var.name}-auditor"
  path = "/extras/"
}

resource "aws_iam_user_policy_attachment" "auditor" {
  user       = aws_iam_user.auditor.name
  policy_arn = aws_iam_policy.read_data.arn
}

# --- DynamoDB: streams, point-in-time recovery, TTL, a GSI, encryption --------

resource "aws_dynamodb_table" "orders" {
  name             = "${var.name}-orders"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "pk"
  range_key        = "sk"
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "status"
    type = "S"
  }

  global_secondary_index {
    name            = "by-status"
    hash_key        = "status"
    range_key       = "sk"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled = true
  }
}

output "bucket" {
  value = aws_s3_bucket.data.id
}

output "queue_url" {
  value = aws_sqs_queue.uploads.id
}

output "table_stream_arn" {
  value = aws_dynamodb_table.orders.stream_arn
}
