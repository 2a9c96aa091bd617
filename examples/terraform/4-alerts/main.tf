# Architecture 4, monitoring and alerts: ECS emits "ECS Task State Change"
# events; a rule matching STOPPED tasks whose container exited non-zero (or
# that failed to start) publishes a readable alert to an SNS topic, whose
# subscribers (here an SQS queue; email and webhooks alike) are notified.
# CloudWatch alarms on the task logs' error metric feed the same topic.

variable "name" {
  type    = string
  default = "tf-alerts"
}

variable "task_image" {
  description = "The report job's image (on wharf's process runtime: an executable path)."
  type        = string
  default     = "000000000000.dkr.ecr.us-east-1.amazonaws.com/nightly-report:5.1.0"
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

# --- the topic and its subscribers --------------------------------------------

resource "aws_sns_topic" "alerts" {
  name = "${var.name}-alerts"
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "EventBridgePublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
  statement {
    sid       = "CloudWatchPublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sqs_queue" "inbox" {
  name                      = "${var.name}-inbox"
  message_retention_seconds = 86400
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue_policy" "inbox" {
  queue_url = aws_sqs_queue.inbox.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TopicDelivers"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.inbox.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.alerts.arn } }
    }]
  })
}

resource "aws_sns_topic_subscription" "inbox" {
  topic_arn            = aws_sns_topic.alerts.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.inbox.arn
  raw_message_delivery = true
  depends_on           = [aws_sqs_queue_policy.inbox]
}

# --- the job that is watched ---------------------------------------------------

resource "aws_cloudwatch_log_group" "report" {
  name              = "/ecs/${var.name}"
  retention_in_days = 14
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  name           = "${var.name}-errors"
  log_group_name = aws_cloudwatch_log_group.report.name
  pattern        = "?ERROR ?FATAL"
  metric_transformation {
    name      = "ReportErrors"
    namespace = "NightlyReport"
    value     = "1"
    unit      = "Count"
  }
}

resource "aws_ecs_cluster" "this" {
  name = var.name
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
      Resource = "${aws_cloudwatch_log_group.report.arn}:*"
    }]
  })
}

resource "aws_ecs_task_definition" "report" {
  family                   = "${var.name}-report"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = "256"
  memory                   = "512"
  execution_role_arn       = aws_iam_role.execution.arn

  container_definitions = jsonencode([{
    name      = "report"
    image     = var.task_image
    essential = true
    command   = ["crash", "0"]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.report.name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = "report"
      }
    }
  }])
}

# --- task failures -> topic ------------------------------------------------------

resource "aws_cloudwatch_event_rule" "task_failed" {
  name        = "${var.name}-task-failed"
  description = "A task of the cluster stopped with a non-zero exit code or failed to start."
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      clusterArn = [aws_ecs_cluster.this.arn]
      lastStatus = ["STOPPED"]
      "$or" = [
        { containers = { exitCode = [{ "anything-but" = 0 }] } },
        { stopCode = ["TaskFailedToStart"] },
      ]
    }
  })
}

resource "aws_cloudwatch_event_target" "alert" {
  rule      = aws_cloudwatch_event_rule.task_failed.name
  target_id = "alerts"
  arn       = aws_sns_topic.alerts.arn

  input_transformer {
    input_paths = {
      family = "$.detail.group"
      reason = "$.detail.stoppedReason"
      code   = "$.detail.containers[0].exitCode"
    }
    input_template = "\"Task <family> stopped: <reason>, exit <code>\""
  }
}

# --- alarms -----------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "report_errors" {
  alarm_name          = "${var.name}-report-errors"
  alarm_description   = "The nightly report logged errors."
  namespace           = "NightlyReport"
  metric_name         = "ReportErrors"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "running_tasks" {
  alarm_name          = "${var.name}-no-running-tasks"
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = aws_ecs_cluster.this.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "LessThanOrEqualToThreshold"
  treat_missing_data  = "missing"
}

resource "aws_cloudwatch_composite_alarm" "report_unhealthy" {
  alarm_name        = "${var.name}-report-unhealthy"
  alarm_description = "Errors logged while no task runs."
  alarm_rule        = "ALARM(\"${aws_cloudwatch_metric_alarm.report_errors.alarm_name}\") AND ALARM(\"${aws_cloudwatch_metric_alarm.running_tasks.alarm_name}\")"
  alarm_actions     = [aws_sns_topic.alerts.arn]
}

output "queue_url" {
  value = aws_sqs_queue.inbox.url
}

output "cluster" {
  value = aws_ecs_cluster.this.name
}

output "task_definition" {
  value = aws_ecs_task_definition.report.arn
}
