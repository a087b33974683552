# The instances' role: the SSM agent registers and receives the deploy commands. No EC2
# permission: nothing runs at boot but a mount (see examples/iam/README.md). No S3 permission
# either by default: each host downloads its release with the presigned URL its command carries.

variable "artifact_fetch" {
  description = "The actions' artifact-fetch: presigned-url (the instance role reads nothing), or instance-role (hosts copy the artifact from the bucket with this role, which then may read the artifact prefix)."
  type        = string
  default     = "presigned-url"
  validation {
    condition     = contains(["presigned-url", "instance-role"], var.artifact_fetch)
    error_message = "artifact_fetch is presigned-url or instance-role."
  }
}

resource "aws_iam_role" "app" {
  name               = "${var.name}-${var.environment}-instance"
  assume_role_policy = file("${path.module}/../iam/instance-trust-policy.json")
}

resource "aws_iam_role_policy_attachment" "app_ssm" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "app" {
  name = aws_iam_role.app.name
  role = aws_iam_role.app.name
}

# Only with artifact_fetch = instance-role: s3:GetObject on the artifact prefix, nothing else
# (examples/iam/instance-read-artifacts.json, its bucket and prefix filled in). Every process on
# every instance can then read every artifact under the prefix.
resource "aws_iam_role_policy" "app_read_artifacts" {
  count = var.artifact_fetch == "instance-role" ? 1 : 0
  name  = "ebs-autoscale-read-artifacts"
  role  = aws_iam_role.app.id
  policy = replace(
    file("${path.module}/../iam/instance-read-artifacts.json"),
    "arn:aws:s3:::shop-production-artifacts-123456789012/ebs-autoscale/",
    "${aws_s3_bucket.artifacts.arn}/${var.artifact_prefix}/"
  )
}
