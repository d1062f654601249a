resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = "{ this is not JSON"
}
