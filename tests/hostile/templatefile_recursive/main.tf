resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = templatefile("${path.module}/policy.tpl", {})
}
