# The infrastructure side of ebs-autoscale: a launch template and an Auto Scaling group that
# follows the template's DEFAULT version. After every deploy the snapshot action publishes a new
# version (same data, /dev/sdf -> the new code snapshot) and makes it the default, so instances
# launched later boot with the new code. See README.md here for why this is Terraform and not
# CloudFormation; github-oidc.tf and instance-profile.tf hold the two IAM roles, artifacts.tf
# the bucket releases travel through, load-balancer.tf the load balancer in front of the group.

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
  description = "The app's name: the snapshot action's `name` input (default: the repository's name), so the Name tag of the code snapshots."
  type        = string
  default     = "shop"
}

variable "environment" {
  description = "The GitHub environment that deploys here (the deploy role trusts only its workflows) and the instances' Environment tag."
  type        = string
  default     = "production"
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
  description = "The instances' security groups (the app's port from the load balancer is added: load-balancer.tf)."
  type        = list(string)
}

variable "health_check_type" {
  description = "EC2 until the first deploy has published the code: before it, the one instance serves nothing, and with ELB the group would replace it (and the code volume made by hand) as unhealthy. Then ELB, so the group replaces instances the load balancer finds unhealthy."
  type        = string
  default     = "EC2"
}

# The newest code snapshot the action published for this app (it tags a snapshot
# ebs-autoscale:status=published once it is the default version's code). None before the first
# deploy: the template then has no code mapping, and the first publish adds it. Once there is
# one, an apply that changes anything else in the template keeps the current code instead of
# dropping it. A list data source, because a single-snapshot lookup fails when there is none.
data "aws_ebs_snapshot_ids" "code" {
  owners = ["self"]

  filter {
    name   = "tag:Name"
    values = [var.name]
  }
  filter {
    name   = "tag:ebs-autoscale:repository"
    values = [var.github_repository]
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

resource "aws_launch_template" "app" {
  name                   = "${var.name}-${var.environment}"
  image_id               = var.image_id
  instance_type          = var.instance_type
  vpc_security_group_ids = concat(var.security_group_ids, [aws_security_group.app.id])
  # A version Terraform makes becomes the default too, like the ones the action makes.
  update_default_version = true

  iam_instance_profile {
    name = aws_iam_instance_profile.app.name
  }

  # The code volume, once the first deploy published a snapshot of it: EC2 creates it from the
  # snapshot and attaches it at launch. The ids are sorted newest first.
  dynamic "block_device_mappings" {
    for_each = slice(data.aws_ebs_snapshot_ids.code.ids, 0, min(1, length(data.aws_ebs_snapshot_ids.code.ids)))
    content {
      device_name = "/dev/sdf"
      ebs {
        snapshot_id           = block_device_mappings.value
        volume_type           = "gp3"
        delete_on_termination = true
      }
    }
  }

  # Mounts it by filesystem label, nofail, and installs the app's unit, which runs the release
  # /srv/app/current points to; no API call at boot.
  user_data = filebase64("${path.module}/../instance/cloud-config.yaml")

  metadata_options {
    http_tokens = "required"
  }

  tag_specifications {
    resource_type = "instance"
    tags = {
      Role        = "app"
      Environment = var.environment
    }
  }

  # The same tags on every volume of the launch, the code volume made from each published
  # snapshot among them: the deploy role may snapshot only volumes tagged so
  # (examples/iam/deploy.json, SnapshotOnlyThisEnvironmentsVolumes). The root volume gets them
  # too; EC2 has no per-mapping tags. Versions the action publishes keep them (SourceVersion).
  tag_specifications {
    resource_type = "volume"
    tags = {
      Role        = "app"
      Environment = var.environment
    }
  }
}

resource "aws_autoscaling_group" "app" {
  name = "${var.name}-${var.environment}"
  # One instance until the first deploy has published the code (see the README's first deploy);
  # then raise these.
  min_size            = 1
  max_size            = 10
  desired_capacity    = 1
  vpc_zone_identifier = var.subnet_ids
  # The group registers each instance in the target group once it is in service; the deploy
  # takes it out and back around its commands.
  target_group_arns         = [aws_lb_target_group.app.arn]
  health_check_type         = var.health_check_type
  health_check_grace_period = 120

  launch_template {
    id = aws_launch_template.app.id
    # Follows whatever version is the default: the snapshot action moves it after each deploy.
    # A version number here would pin the group to old code.
    version = "$Default"
  }

  tag {
    key                 = "Role"
    value               = "app"
    propagate_at_launch = true
  }
  tag {
    key                 = "Environment"
    value               = var.environment
    propagate_at_launch = true
  }

  lifecycle {
    # Scaling policies and people change it; Terraform should not fight them.
    ignore_changes = [desired_capacity]
  }
}

output "launch_template_id" {
  description = "The deploy's launch-template input (it defaults to the group's template)."
  value       = aws_launch_template.app.id
}

output "asg_name" {
  description = "The deploy's asg-name input."
  value       = aws_autoscaling_group.app.name
}
