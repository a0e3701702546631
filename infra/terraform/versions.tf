# Atlas — Terraform
# SPDX-License-Identifier: Apache-2.0
# Atlas on ECS Fargate behind an ALB, with RDS PostgreSQL and Secrets Manager.

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      Application = "atlas"
      Environment = var.environment
      ManagedBy   = "terraform"
    })
  }
}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  name = "${var.name}-${var.environment}"
  azs  = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  # The container's port; ATLAS_PORT in the task definition and the target group agree on it.
  container_port = 8000
}
