# Atlas — Terraform
# SPDX-License-Identifier: Apache-2.0
# Inputs. Every variable has a description and, where a bad value would only
# fail late in AWS, a validation block.

variable "name" {
  description = "Prefix for every resource name (lower case letters, digits and hyphens)."
  type        = string
  default     = "atlas"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: lower case letters, digits and hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Deployment stage, part of resource names (e.g. staging, production)."
  type        = string
  default     = "production"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment must be 2-16 characters: lower case letters, digits and hyphens."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "tags" {
  description = "Extra tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; public and private subnets are carved from it (/20 each)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 18
    error_message = "vpc_cidr must be a valid IPv4 CIDR block of /18 or larger."
  }
}

variable "az_count" {
  description = "Availability zones to spread subnets, tasks and the database over."
  type        = number
  default     = 2

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3 (an ALB and a Multi-AZ database need at least two zones)."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all private subnets (cheaper) instead of one per zone (survives a zone outage)."
  type        = bool
  default     = true
}

variable "image" {
  description = "Container image of atlas, built from the repository's Dockerfile (e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/atlas:1.2.3)."
  type        = string

  validation {
    condition     = length(var.image) > 0 && !endswith(var.image, ":latest")
    error_message = "image must name a pinned tag or digest, not :latest."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units (1024 = one vCPU)."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.task_cpu)
    error_message = "task_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "task_memory" {
  description = "Fargate task memory in MiB; must be a valid pairing with task_cpu."
  type        = number
  default     = 2048

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 122880 && var.task_memory % 512 == 0
    error_message = "task_memory must be between 512 and 122880 MiB, a multiple of 512."
  }
}

variable "desired_count" {
  description = "Tasks to start with; autoscaling moves between min_count and max_count."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 1
    error_message = "desired_count must be at least 1."
  }
}

variable "min_count" {
  description = "Fewest tasks autoscaling keeps (two or more survive a zone outage)."
  type        = number
  default     = 2

  validation {
    condition     = var.min_count >= 1
    error_message = "min_count must be at least 1."
  }
}

variable "max_count" {
  description = "Most tasks autoscaling starts; each holds up to db_pool_size PostgreSQL connections."
  type        = number
  default     = 8

  validation {
    condition     = var.max_count >= 1 && var.max_count <= 100
    error_message = "max_count must be between 1 and 100."
  }
}

variable "cpu_target_percent" {
  description = "Average task CPU utilisation autoscaling holds."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target_percent >= 10 && var.cpu_target_percent <= 90
    error_message = "cpu_target_percent must be between 10 and 90."
  }
}

variable "requests_per_task_target" {
  description = "ALB requests per task per minute autoscaling holds (ALBRequestCountPerTarget)."
  type        = number
  default     = 6000

  validation {
    condition     = var.requests_per_task_target >= 10
    error_message = "requests_per_task_target must be at least 10."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener; empty serves plain HTTP only (for a first try, not for production)."
  type        = string
  default     = ""

  validation {
    condition     = var.certificate_arn == "" || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be empty or an ACM certificate ARN."
  }
}

variable "ingress_cidrs" {
  description = "Client CIDR blocks allowed to reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for cidr in var.ingress_cidrs : can(cidrhost(cidr, 0))])
    error_message = "ingress_cidrs must hold valid CIDR blocks."
  }
}

variable "log_level" {
  description = "ATLAS_LOG_LEVEL of the tasks."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "notice", "warning", "error", "critical"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, notice, warning, error, critical."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the tasks' JSON logs."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …)."
  }
}

variable "otlp_endpoint" {
  description = "ATLAS_OTLP_ENDPOINT: base URL of an OTLP/HTTP collector (e.g. a sidecar at http://127.0.0.1:4318); empty disables export."
  type        = string
  default     = ""

  validation {
    condition     = var.otlp_endpoint == "" || can(regex("^https?://", var.otlp_endpoint))
    error_message = "otlp_endpoint must be empty or an http(s) URL."
  }
}

variable "alert_webhook_url" {
  description = "ATLAS_ALERT_WEBHOOK_URL: Slack or n8n webhook receiving budget alerts and operator notices; empty disables them."
  type        = string
  default     = ""
  sensitive   = true

  validation {
    condition     = var.alert_webhook_url == "" || can(regex("^https://", var.alert_webhook_url))
    error_message = "alert_webhook_url must be empty or an https URL."
  }
}

variable "alert_webhook_format" {
  description = "ATLAS_ALERT_WEBHOOK_FORMAT: json (n8n and other receivers) or slack."
  type        = string
  default     = "json"

  validation {
    condition     = contains(["json", "slack"], var.alert_webhook_format)
    error_message = "alert_webhook_format must be json or slack."
  }
}

variable "admin_username" {
  description = "ATLAS_AUTH_USERNAME: the bootstrap platform admin created on first start (its password is generated into Secrets Manager)."
  type        = string
  default     = "admin@atlas"

  validation {
    condition     = length(var.admin_username) >= 3
    error_message = "admin_username must have at least 3 characters."
  }
}

variable "stripe_webhook_secret" {
  description = "ATLAS_STRIPE_WEBHOOK_SECRET: the Stripe endpoint signing secret (whsec_…); comma-separated during a rotation."
  type        = string
  sensitive   = true

  validation {
    condition     = alltrue([for secret in split(",", var.stripe_webhook_secret) : startswith(trimspace(secret), "whsec_") && trimspace(secret) != "whsec_demo"])
    error_message = "stripe_webhook_secret must be one or more whsec_… secrets from the Stripe dashboard, not the demo value."
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL database."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must be an RDS class such as db.t4g.medium."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major version (Atlas is tested on 15)."
  type        = string
  default     = "15"

  validation {
    condition     = contains(["15", "16", "17"], var.db_engine_version)
    error_message = "db_engine_version must be 15, 16 or 17."
  }
}

variable "db_allocated_storage" {
  description = "Initial database storage in GiB; it grows automatically up to db_max_allocated_storage."
  type        = number
  default     = 50

  validation {
    condition     = var.db_allocated_storage >= 20 && var.db_allocated_storage <= 65536
    error_message = "db_allocated_storage must be between 20 and 65536 GiB."
  }
}

variable "db_max_allocated_storage" {
  description = "Ceiling for storage autoscaling in GiB."
  type        = number
  default     = 500

  validation {
    condition     = var.db_max_allocated_storage >= 20
    error_message = "db_max_allocated_storage must be at least 20 GiB."
  }
}

variable "db_multi_az" {
  description = "Run the database with a synchronous standby in another zone."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35 (0 would disable backups)."
  }
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database (turn off deliberately before a terraform destroy)."
  type        = bool
  default     = true
}

variable "db_pool_size" {
  description = "ATLAS_DATABASE_POOL_SIZE: PostgreSQL connections per task; max_count times this must stay under the instance's max_connections."
  type        = number
  default     = 10

  validation {
    condition     = var.db_pool_size >= 1 && var.db_pool_size <= 100
    error_message = "db_pool_size must be between 1 and 100."
  }
}
