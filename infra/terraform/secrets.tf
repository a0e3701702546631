# Atlas — Terraform
# SPDX-License-Identifier: Apache-2.0
# Secrets Manager: every secret ATLAS_* variable, injected into the task definition by ARN.
# Generated values live in the Terraform state: keep the state encrypted (an S3 backend with SSE).

resource "random_password" "auth_secret" {
  length  = 64
  special = false
}

resource "random_password" "admin_password" {
  length  = 32
  special = false
}

resource "random_password" "metrics_token" {
  length  = 40
  special = false
}

resource "random_password" "alert_webhook_secret" {
  length  = 48
  special = false
}

locals {
  # The names alone: for_each may not depend on the (sensitive) values.
  secret_names = [
    "ATLAS_DATABASE_URL",
    "ATLAS_AUTH_SECRET",
    "ATLAS_AUTH_PASSWORD",
    "ATLAS_STRIPE_WEBHOOK_SECRET",
    "ATLAS_METRICS_TOKEN",
    "ATLAS_ALERT_WEBHOOK_SECRET",
  ]

  # Name of the ATLAS_* variable → value. ATLAS_AUTH_SECRET and ATLAS_STRIPE_WEBHOOK_SECRET take a
  # comma-separated list, newest first, during a rotation (automation/playbooks/secret-rotation.md).
  secrets = {
    ATLAS_DATABASE_URL          = "postgresql://atlas:${random_password.database.result}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/atlas?sslmode=require"
    ATLAS_AUTH_SECRET           = random_password.auth_secret.result
    ATLAS_AUTH_PASSWORD         = random_password.admin_password.result
    ATLAS_STRIPE_WEBHOOK_SECRET = var.stripe_webhook_secret
    ATLAS_METRICS_TOKEN         = random_password.metrics_token.result
    ATLAS_ALERT_WEBHOOK_SECRET  = random_password.alert_webhook_secret.result
  }
}

resource "aws_secretsmanager_secret" "atlas" {
  for_each                = toset(local.secret_names)
  name                    = "${local.name}/${each.key}"
  description             = "${each.key} for atlas (${var.environment})"
  recovery_window_in_days = 7
}

# Rotations happen outside Terraform (the playbook); Terraform sets the first value only.
resource "aws_secretsmanager_secret_version" "atlas" {
  for_each      = aws_secretsmanager_secret.atlas
  secret_id     = each.value.id
  secret_string = local.secrets[each.key]

  lifecycle {
    ignore_changes = [secret_string]
  }
}
