# The instances' role: the SSM agent registers and receives the deploy commands. No EC2
# permission: nothing runs at boot but a mount (see examples/iam/README.md).

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
