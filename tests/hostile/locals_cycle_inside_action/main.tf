locals {
  a = local.b
  b = local.a
}

resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = jsonencode({ Version = "1.1", Statement = [{ Effect = "Allow", Action = [local.a] }] })
}
