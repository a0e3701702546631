# Atlas — Terraform
# SPDX-License-Identifier: Apache-2.0
# The service: an ECS Fargate service of stateless atlas tasks on one PostgreSQL, behind an
# ALB that checks GET /health/live, logging JSON lines to CloudWatch, scaled on CPU and requests.

resource "aws_cloudwatch_log_group" "atlas" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
}

resource "aws_ecs_cluster" "this" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
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

# The execution role pulls the image, writes logs and reads the secrets into the environment.
resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "read_secrets" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [for secret in aws_secretsmanager_secret.atlas : secret.arn]
  }
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-atlas-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.read_secrets.json
}

# The task role: atlas itself calls no AWS API.
resource "aws_iam_role" "task" {
  name               = "${local.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

locals {
  # Plain settings; every name is in README.md's configuration table (Tests/AtlasTests/DeliveryTests.swift).
  environment = merge(
    {
      ATLAS_ENVIRONMENT          = "production"
      ATLAS_HOST                 = "0.0.0.0"
      ATLAS_PORT                 = tostring(local.container_port)
      ATLAS_LOG_LEVEL            = var.log_level
      ATLAS_AUTH_USERNAME        = var.admin_username
      ATLAS_DATABASE_POOL_SIZE   = tostring(var.db_pool_size)
      ATLAS_ALERT_WEBHOOK_FORMAT = var.alert_webhook_format
    },
    var.otlp_endpoint == "" ? {} : { ATLAS_OTLP_ENDPOINT = var.otlp_endpoint },
    var.alert_webhook_url == "" ? {} : { ATLAS_ALERT_WEBHOOK_URL = var.alert_webhook_url },
  )
}

resource "aws_ecs_task_definition" "atlas" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([
    {
      name      = "atlas"
      image     = var.image
      essential = true
      command   = ["serve"]
      portMappings = [
        { containerPort = local.container_port, protocol = "tcp" }
      ]
      environment = [for name in sort(keys(local.environment)) : { name = name, value = local.environment[name] }]
      secrets = [for name in local.secret_names : {
        name      = name
        valueFrom = aws_secretsmanager_secret.atlas[name].arn
      }]
      healthCheck = {
        command     = ["CMD", "/usr/local/bin/atlas", "healthcheck"]
        interval    = 15
        timeout     = 5
        retries     = 3
        startPeriod = 30
      }
      # ATLAS_HTTP_SHUTDOWN_TIMEOUT (10 s) drains in-flight requests within this.
      stopTimeout = 30
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.atlas.name
          awslogs-region        = var.region
          awslogs-stream-prefix = "atlas"
        }
      }
    }
  ])
}

resource "aws_lb" "this" {
  name                       = trimsuffix(substr(local.name, 0, 32), "-") # load balancer names: 32 characters at most
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.alb.id]
  subnets                    = aws_subnet.public[*].id
  drop_invalid_header_fields = true
  idle_timeout               = 60
}

resource "aws_lb_target_group" "atlas" {
  name                 = trimsuffix(substr(local.name, 0, 32), "-") # load balancer names: 32 characters at most
  port                 = local.container_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.this.id
  deregistration_delay = 15

  health_check {
    path                = "/health/live"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = var.certificate_arn == "" ? "forward" : "redirect"
    target_group_arn = var.certificate_arn == "" ? aws_lb_target_group.atlas.arn : null

    dynamic "redirect" {
      for_each = var.certificate_arn == "" ? [] : [1]
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = var.certificate_arn == "" ? 0 : 1
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.atlas.arn
  }
}

resource "aws_ecs_service" "atlas" {
  name                              = "atlas"
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.atlas.arn
  desired_count                     = var.desired_count
  launch_type                       = "FARGATE"
  health_check_grace_period_seconds = 60
  propagate_tags                    = "SERVICE"

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.service.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.atlas.arn
    container_name   = "atlas"
    container_port   = local.container_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  # Autoscaling owns the count after the first apply.
  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.http, aws_iam_role_policy.execution_secrets]
}

resource "aws_appautoscaling_target" "atlas" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.atlas.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.min_count
  max_capacity       = var.max_count
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${local.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.atlas.service_namespace
  resource_id        = aws_appautoscaling_target.atlas.resource_id
  scalable_dimension = aws_appautoscaling_target.atlas.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${local.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.atlas.service_namespace
  resource_id        = aws_appautoscaling_target.atlas.resource_id
  scalable_dimension = aws_appautoscaling_target.atlas.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_task_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.atlas.arn_suffix}"
    }
  }
}
