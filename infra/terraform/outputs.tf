# Atlas — Terraform
# SPDX-License-Identifier: Apache-2.0
# Outputs.

output "url" {
  description = "Base URL of atlas through the load balancer."
  value       = "${var.certificate_arn == "" ? "http" : "https"}://${aws_lb.this.dns_name}"
}

output "load_balancer_dns_name" {
  description = "DNS name of the ALB, for a CNAME or alias record."
  value       = aws_lb.this.dns_name
}

output "cluster_name" {
  description = "ECS cluster name (aws ecs update-service --cluster …)."
  value       = aws_ecs_cluster.this.name
}

output "service_name" {
  description = "ECS service name."
  value       = aws_ecs_service.atlas.name
}

output "log_group" {
  description = "CloudWatch log group of the tasks' JSON logs."
  value       = aws_cloudwatch_log_group.atlas.name
}

output "database_endpoint" {
  description = "RDS endpoint (host:port), reachable from the private subnets only."
  value       = aws_db_instance.this.endpoint
}

output "database_identifier" {
  description = "RDS instance identifier, for snapshots and point-in-time restores."
  value       = aws_db_instance.this.identifier
}

output "secret_arns" {
  description = "Secrets Manager ARN of each secret ATLAS_* variable."
  value       = { for name, secret in aws_secretsmanager_secret.atlas : name => secret.arn }
}
