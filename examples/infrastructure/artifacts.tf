# The bucket the deploy ships releases through (the actions' `artifact-bucket`): the runner
# uploads each build once, as <prefix>/<sha256>.tar.gz, and each host downloads it with a
# presigned URL (or its instance role: see instance-profile.tf). Private, encrypted, owned by
# the account, HTTPS only; old artifacts expire.

variable "artifact_retention_days" {
  description = "Days an artifact (and its release record) stays in the bucket after its upload. A rollback-to a release fetches it again only on a host that no longer holds it; keep artifacts at least as long as you may roll back that far."
  type        = number
  default     = 90
}

variable "artifact_prefix" {
  description = "The actions' artifact-prefix: the key prefix of the artifacts and release records."
  type        = string
  default     = "ebs-autoscale"
}

data "aws_caller_identity" "current" {}

resource "aws_s3_bucket" "artifacts" {
  # Bucket names are global: the account id keeps this one unique.
  bucket = "${var.name}-${var.environment}-artifacts-${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# No ACLs: the account owns every object, whoever uploaded it.
resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# SSE-S3. With SSE-KMS (aws:kms and your key), the deploy role needs kms:GenerateDataKey and
# kms:Decrypt on the key, and so does whatever downloads: a presigned URL is signed by the deploy
# role; with artifact-fetch: instance-role, the instance role.
resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Artifacts are named by their content and never overwritten, so versioning would add nothing.
# The rule expires them by age since upload; the action uploads nothing when the same content is
# already there, and uploads it again once it has expired.
resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    id     = "expire-old-artifacts"
    status = "Enabled"
    filter {
      prefix = "${var.artifact_prefix}/"
    }
    expiration {
      days = var.artifact_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  # Applied after the public access block, which would otherwise race it.
  depends_on = [aws_s3_bucket_public_access_block.artifacts]
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "HttpsOnly"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.artifacts.arn, "${aws_s3_bucket.artifacts.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

output "artifact_bucket" {
  description = "The deploy's artifact-bucket input."
  value       = aws_s3_bucket.artifacts.bucket
}

output "artifact_bucket_arn" {
  description = "The artifact bucket's ARN (the deploy role's S3 statements name it)."
  value       = aws_s3_bucket.artifacts.arn
}
