# An Application Load Balancer in front of the group: the group registers each instance in the
# target group, and the deploy takes each host out of it (draining) before its commands and back
# in after, waiting until it is healthy again, so the first deploy already goes through the
# load-balancer path. The target group's name starts with <name>-<environment>, the prefix the
# deploy role may register and deregister targets in (examples/iam/deploy.json).

variable "app_port" {
  description = "The port the app listens on (examples/instance/shop.service)."
  type        = number
  default     = 8080
}

variable "health_check_path" {
  description = "Answers 200 only once the app serves the new code (not a path the web server answers alone)."
  type        = string
  default     = "/health"
}

variable "load_balancer_subnet_ids" {
  description = "Subnets of the load balancer, in two Availability Zones at least (public ones for an internet-facing one). Empty: subnet_ids."
  type        = list(string)
  default     = []
}

variable "load_balancer_ingress_cidr_blocks" {
  description = "Who may reach the load balancer's listener."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

data "aws_subnet" "first" {
  id = var.subnet_ids[0]
}

resource "aws_security_group" "load_balancer" {
  name        = "${var.name}-${var.environment}-lb"
  description = "The load balancer of ${var.name}-${var.environment}"
  vpc_id      = data.aws_subnet.first.vpc_id

  ingress {
    description = "HTTP"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = var.load_balancer_ingress_cidr_blocks
  }
  egress {
    description     = "To the app"
    from_port       = var.app_port
    to_port         = var.app_port
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
}

# Added to the instances beside security_group_ids: the app's port, from the load balancer only.
resource "aws_security_group" "app" {
  name        = "${var.name}-${var.environment}-app"
  description = "The app port of ${var.name}-${var.environment}, from its load balancer"
  vpc_id      = data.aws_subnet.first.vpc_id
}

resource "aws_security_group_rule" "app_from_load_balancer" {
  type                     = "ingress"
  description              = "From the load balancer"
  security_group_id        = aws_security_group.app.id
  from_port                = var.app_port
  to_port                  = var.app_port
  protocol                 = "tcp"
  source_security_group_id = aws_security_group.load_balancer.id
}

resource "aws_lb" "app" {
  name               = "${var.name}-${var.environment}"
  load_balancer_type = "application"
  subnets            = length(var.load_balancer_subnet_ids) > 0 ? var.load_balancer_subnet_ids : var.subnet_ids
  security_groups    = [aws_security_group.load_balancer.id]
}

resource "aws_lb_target_group" "app" {
  name        = "${var.name}-${var.environment}"
  target_type = "instance"
  port        = var.app_port
  protocol    = "HTTP"
  vpc_id      = data.aws_subnet.first.vpc_id
  # How long a deregistered host keeps its open requests: the deploy waits this long (plus 30 s
  # at most) before running a host's commands.
  deregistration_delay = 30

  health_check {
    path                = var.health_check_path
    matcher             = "200"
    interval            = 10
    healthy_threshold   = 3
    unhealthy_threshold = 2
    timeout             = 5
  }
}

# HTTP for the example; add an HTTPS listener with your certificate (aws_lb_listener with
# certificate_arn) and redirect port 80 to it.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.app.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

output "load_balancer_url" {
  description = "Where the app answers once deployed."
  value       = "http://${aws_lb.app.dns_name}"
}

output "target_group_arn" {
  description = "The target group the group registers its instances in (the deploy finds it by itself: target-groups: auto)."
  value       = aws_lb_target_group.app.arn
}
