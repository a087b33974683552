# GitHub's OIDC provider and the role the deploy workflow assumes through
# aws-actions/configure-aws-credentials: no AWS keys are stored in GitHub. The role's trust and
# permissions are the files in examples/iam/ themselves (test/unit/iam.test.ts holds
# deploy.json to exactly what the code calls), their placeholders replaced by this stack's names.

variable "github_repository" {
  description = "The repository (owner/name) whose workflows deploy: the only one that may assume the role, and the ebs-autoscale:repository tag of its snapshots."
  type        = string
  default     = "acme/shop"
}

variable "github_oidc_provider_arn" {
  description = "The account's GitHub OIDC provider, if it has one already (there can be only one per URL). Empty: this stack creates it."
  type        = string
  default     = ""
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.github_oidc_provider_arn == "" ? 1 : 0
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  # GitHub's published thumbprints; older AWS providers require the argument.
  thumbprint_list = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
  ]
}

locals {
  github_oidc_provider_arn = var.github_oidc_provider_arn != "" ? var.github_oidc_provider_arn : aws_iam_openid_connect_provider.github[0].arn
  # This stack's region and account, read from an ARN it made (the same on AWS
  # provider 5 and 6, whose aws_region data source renamed its attribute).
  template_arn = split(":", aws_launch_template.app.arn)
  region       = local.template_arn[3]
  account_id   = local.template_arn[4]
}

resource "aws_iam_role" "deploy" {
  name = "deploy-${var.name}-${var.environment}"
  # Only workflows of this repository running in this GitHub environment.
  assume_role_policy = replace(
    replace(
      file("${path.module}/../iam/github-oidc-trust-policy.json"),
      "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
      local.github_oidc_provider_arn
    ),
    "repo:acme/shop:environment:production",
    "repo:${var.github_repository}:environment:${var.environment}"
  )
  # A deploy of a large fleet can outlast the default hour; configure-aws-credentials asks for
  # role-duration-seconds up to this.
  max_session_duration = 7200
}

# deploy.json for the one-step deploy, and rollout.json beside it for the composed workflow
# (examples/workflows/composed.yml): its rollout, given bare instance-ids, also calls
# autoscaling:DescribeAutoScalingInstances; everything else the composed actions call is in
# deploy.json already. Drop rollout.json if you only use the one-step deploy.
resource "aws_iam_role_policy" "deploy" {
  for_each = toset(["deploy", "rollout"])
  name     = "ebs-autoscale-${each.key}"
  role     = aws_iam_role.deploy.id
  policy = replace(
    replace(
      replace(
        replace(
          replace(
            replace(
              replace(
                replace(
                  replace(
                    replace(
                      file("${path.module}/../iam/${each.key}.json"),
                      # The artifact bucket (artifacts.tf) and its prefix, first: the
                      # placeholder bucket's name holds the account id.
                      "arn:aws:s3:::shop-production-artifacts-123456789012/ebs-autoscale/",
                      "${aws_s3_bucket.artifacts.arn}/${var.artifact_prefix}/"
                    ),
                    "arn:aws:s3:::shop-production-artifacts-123456789012",
                    aws_s3_bucket.artifacts.arn
                  ),
                  "\"ebs-autoscale/*\"",
                  jsonencode("${var.artifact_prefix}/*")
                ),
                "123456789012",
                local.account_id
              ),
              "eu-west-1",
              local.region
            ),
            "lt-0123456789abcdef0",
            aws_launch_template.app.id
          ),
          "autoScalingGroupName/shop-production",
          "autoScalingGroupName/${aws_autoscaling_group.app.name}"
        ),
        # This app's target groups: those named <name>-<environment>...
        "targetgroup/shop-production",
        "targetgroup/${var.name}-${var.environment}"
      ),
      # The Environment tag of the hosts and volumes the role may touch.
      "\"production\"",
      jsonencode(var.environment)
    ),
    "\"acme/shop\"",
    jsonencode(var.github_repository)
  )
}

# Before the rollout policy was added, the one policy was aws_iam_role_policy.deploy.
moved {
  from = aws_iam_role_policy.deploy
  to   = aws_iam_role_policy.deploy["deploy"]
}

output "deploy_role_arn" {
  description = "The role-to-assume of aws-actions/configure-aws-credentials."
  value       = aws_iam_role.deploy.arn
}
