locals {
  policy = local.policy
}

resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = local.policy
}
