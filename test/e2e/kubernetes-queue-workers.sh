#!/usr/bin/env bash
# Architecture 3 on Kubernetes: test/e2e/queue-workers.sh (500 messages, an
# ECS service of queue workers scaled 1 -> 5 -> 1 on backlog per task by
# Application Auto Scaling) with wharf's kubernetes runtime, each task a Pod
# on the cluster WHARF_KUBECONFIG names. scripts/test runs it once the
# cluster is up; without WHARF_KUBECONFIG it fails.
set -euo pipefail
QUEUE_WORKERS_RUNTIME=kubernetes exec bash "$(dirname "$0")/queue-workers.sh"
