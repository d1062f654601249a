resource "huaweicloud_identity_role" "r" {
  name   = "r"
  type   = "XA"
  policy = "42"
}
resource "huaweicloud_identity_role" "r2" {
  name   = "r2"
  type   = "XA"
  policy = jsonencode(3.5)
}
