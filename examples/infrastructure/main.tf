# The infrastructure side of ebs-autoscale: a launch template that maps the code device
# (/dev/sdf) to a snapshot of the code, and an Auto Scaling group that follows the template's
# DEFAULT version. After every deploy the snapshot action publishes a new version (same data,
# /dev/sdf -> the new snapshot) and makes it the default, so instances launched later boot with
# the new code. See README.md here for why this is Terraform and not CloudFormation.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "name" {
  description = "The snapshot action's `name` input (default: the repository's name): the Name tag of the code snapshots."
  type        = string
  default     = "shop"
}

variable "image_id" {
  description = "The AMI (with the SSM agent; Amazon Linux has it)."
  type        = string
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "instance_profile" {
  description = "An instance profile whose role has AmazonSSMManagedInstanceCore (deploys go over SSM). No EC2 permission is needed."
  type        = string
}

variable "code_snapshot_id" {
  description = "The first code snapshot (see examples/instance/README.md). Leave empty once the snapshot action has published one."
  type        = string
  default     = ""
}

# The newest snapshot the action published (it tags it ebs-autoscale:status=published once it is
# the default version's code). Using it here means an apply that changes anything else in the
# template keeps the current code instead of rolling it back to an old snapshot.
data "aws_ebs_snapshot" "code" {
  count       = var.code_snapshot_id == "" ? 1 : 0
  most_recent = true
  owners      = ["self"]

  filter {
    name   = "tag:Name"
    values = [var.name]
  }
  filter {
    name   = "tag:ebs-autoscale:status"
    values = ["published"]
  }
  filter {
    name   = "status"
    values = ["completed"]
  }
}

locals {
  code_snapshot_id = var.code_snapshot_id != "" ? var.code_snapshot_id : data.aws_ebs_snapshot.code[0].id
}

resource "aws_launch_template" "app" {
  name                   = "${var.name}-lt"
  image_id               = var.image_id
  instance_type          = var.instance_type
  vpc_security_group_ids = var.security_group_ids
  # A version Terraform makes becomes the default too, like the ones the action makes.
  update_default_version = true

  iam_instance_profile {
    name = var.instance_profile
  }

  # The code volume: EC2 creates it from the snapshot and attaches it at launch.
  block_device_mappings {
    device_name = "/dev/sdf"
    ebs {
      snapshot_id           = local.code_snapshot_id
      volume_type           = "gp3"
      delete_on_termination = true
    }
  }

  # Mounts it by filesystem label, nofail; no API call at boot.
  user_data = filebase64("${path.module}/../instance/cloud-config.yaml")

  metadata_options {
    http_tokens = "required"
  }

  tag_specifications {
    resource_type = "instance"
    tags = {
      Role        = "app"
      Environment = "production"
    }
  }
}

resource "aws_autoscaling_group" "app" {
  name                = "${var.name}-asg"
  min_size            = 2
  max_size            = 10
  desired_capacity    = 2
  vpc_zone_identifier = var.subnet_ids

  launch_template {
    id = aws_launch_template.app.id
    # Follows whatever version is the default: the snapshot action moves it after each deploy.
    # A version number here would pin the group to old code (the action warns about that).
    version = "$Default"
  }

  tag {
    key                 = "Role"
    value               = "app"
    propagate_at_launch = true
  }

  lifecycle {
    # Scaling policies and people change it; Terraform should not fight them.
    ignore_changes = [desired_capacity]
  }
}

output "launch_template_id" {
  description = "The snapshot action's launch-template input."
  value       = aws_launch_template.app.id
}

output "asg_name" {
  value = aws_autoscaling_group.app.name
}
