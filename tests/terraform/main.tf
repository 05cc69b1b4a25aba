# The PetStore behind a resource policy, a custom ACCESS_DENIED response and a WAF web ACL,
# applied by the hashicorp/aws provider against petgate local (tests/e2e/test_terraform.py).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "endpoint" {
  description = "petgate local's URL, such as http://127.0.0.1:4599"
  type        = string
}

variable "denied_address" {
  description = "the source address the resource policy denies"
  type        = string
}

variable "blocked_address" {
  description = "the source address the WAF IP set blocks"
  type        = string
}

variable "shorthand_policy" {
  description = "write the policy's Resource as execute-api:/*, which AWS stores expanded (a diff on every plan)"
  type        = bool
  default     = false
}

variable "petstore" {
  description = "the path of the PetStore definition (petgate/example/petstore.json)"
  type        = string
}

# No skip_requesting_account_id: the provider asks STS (petgate local answers
# GetCallerIdentity: account 123456789012), so execution_arn carries the account. With it set,
# execution_arn is arn:aws:execute-api:us-east-1::ID and a policy built on it matches no call.
provider "aws" {
  region                  = "us-east-1"
  access_key              = "test"
  secret_key              = "test"
  skip_metadata_api_check = true

  endpoints {
    apigateway = var.endpoint
    wafv2      = var.endpoint
    iam        = var.endpoint
    sts        = var.endpoint
  }
}

resource "aws_api_gateway_rest_api" "petstore" {
  name = "petstore-terraform"
  body = file(var.petstore)

  endpoint_configuration {
    types = ["REGIONAL"]
  }
}

locals {
  invoke_arn = var.shorthand_policy ? "execute-api:/*" : "${aws_api_gateway_rest_api.petstore.execution_arn}/*"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = "*"
        Action    = "execute-api:Invoke"
        Resource  = local.invoke_arn
      },
      {
        Effect    = "Deny"
        Principal = "*"
        Action    = "execute-api:Invoke"
        Resource  = local.invoke_arn
        Condition = { IpAddress = { "aws:SourceIp" = ["${var.denied_address}/32"] } }
      },
    ]
  })
}

resource "aws_api_gateway_rest_api_policy" "deny" {
  rest_api_id = aws_api_gateway_rest_api.petstore.id
  policy      = local.policy
}

resource "aws_api_gateway_gateway_response" "access_denied" {
  rest_api_id   = aws_api_gateway_rest_api.petstore.id
  response_type = "ACCESS_DENIED"
  status_code   = "403"
  response_templates = {
    "application/json" = "{\"message\": \"terraform says no to $context.identity.sourceIp\"}"
  }
}

resource "aws_api_gateway_deployment" "petstore" {
  rest_api_id = aws_api_gateway_rest_api.petstore.id
  # from the configuration, not from what the API stored: a stored policy may read back
  # rewritten (execute-api:/* expanded), and a trigger on it changes during apply
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_rest_api.petstore.body,
      local.policy,
      aws_api_gateway_gateway_response.access_denied.response_templates,
    ]))
  }
  depends_on = [aws_api_gateway_rest_api_policy.deny, aws_api_gateway_gateway_response.access_denied]

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "test" {
  rest_api_id   = aws_api_gateway_rest_api.petstore.id
  deployment_id = aws_api_gateway_deployment.petstore.id
  stage_name    = "test"
}

resource "aws_wafv2_ip_set" "blocked" {
  name               = "petstore-terraform-blocked"
  scope              = "REGIONAL"
  ip_address_version = "IPV4"
  addresses          = ["${var.blocked_address}/32"]
}

resource "aws_wafv2_web_acl" "petstore" {
  name  = "petstore-terraform"
  scope = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "block-the-set"
    priority = 1

    action {
      block {}
    }

    statement {
      ip_set_reference_statement {
        arn = aws_wafv2_ip_set.blocked.arn
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = false
      metric_name                = "block-the-set"
      sampled_requests_enabled   = false
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = false
    metric_name                = "petstore-terraform"
    sampled_requests_enabled   = false
  }
}

resource "aws_wafv2_web_acl_association" "test" {
  resource_arn = aws_api_gateway_stage.test.arn
  web_acl_arn  = aws_wafv2_web_acl.petstore.arn
}

output "rest_api_id" {
  value = aws_api_gateway_rest_api.petstore.id
}

output "stage_arn" {
  value = aws_api_gateway_stage.test.arn
}

output "web_acl_arn" {
  value = aws_wafv2_web_acl.petstore.arn
}

output "ip_set_arn" {
  value = aws_wafv2_ip_set.blocked.arn
}

output "execution_arn" {
  value = aws_api_gateway_rest_api.petstore.execution_arn
}
