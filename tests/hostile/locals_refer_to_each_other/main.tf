locals {
  a = local.b
  b = local.a
}

resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = local.a
}
